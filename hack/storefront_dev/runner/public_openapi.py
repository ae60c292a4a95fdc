"""One OpenAPI document of the public API, merged from the services' own: what the gateway serves at
/api/openapi.json. Paths the gateway does not route to their service (/internal, /healthz, ...) are left out;
a component schema two services define differently is namespaced with its service's name; an operation
without tags is tagged with its service's name."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

SCHEMAS = "#/components/schemas/"
OPERATIONS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _renamed_refs(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: (SCHEMAS + renames.get(item[len(SCHEMAS):], item[len(SCHEMAS):])
                      if key == "$ref" and isinstance(item, str) and item.startswith(SCHEMAS)
                      else _renamed_refs(item, renames)) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed_refs(item, renames) for item in value]
    return value


def _tagged(item: dict[str, Any], service: str) -> dict[str, Any]:
    """Each operation tagged with its service (unless it has tags): the docs page groups them so."""
    return {method: ({**operation, "tags": operation.get("tags") or [service]}
                     if method in OPERATIONS and isinstance(operation, dict) else operation)
            for method, operation in item.items()}


def merge(documents: Mapping[str, dict[str, Any]], served_by: Callable[[str], str | None],
          title: str = "Storefront API") -> dict[str, Any]:
    """`documents`: each service's /openapi.json by service name; `served_by(path)`: the service a path routes to."""
    definitions: dict[str, list[tuple[str, Any]]] = {}
    for service, document in documents.items():
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            definitions.setdefault(name, []).append((service, schema))
    colliding = {name for name, found in definitions.items() if any(schema != found[0][1] for _, schema in found)}
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    for service, document in documents.items():
        renames = {name: f"{service.title()}{name}" for name in colliding}
        for path, item in document.get("paths", {}).items():
            if served_by(path) == service:
                paths[path] = _tagged(_renamed_refs(item, renames), service)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = _renamed_refs(schema, renames)
        security_schemes.update(document.get("components", {}).get("securitySchemes", {}))
    return {"openapi": "3.1.0", "info": {"title": title, "version": "1.0.0"},
            "tags": [{"name": service, "description": f"Served by the {service} service"} for service in documents
                     if any(served_by(path) == service for path in documents[service].get("paths", {}))],
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": security_schemes}}
