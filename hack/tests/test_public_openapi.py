"""The public document the gateway serves at /api/openapi.json, merged from the services' documents."""
from __future__ import annotations

from typing import Any

from storefront_dev.runner.public_openapi import merge


def _document(paths: list[str], schemas: dict[str, Any]) -> dict[str, Any]:
    operation = {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Item"}}}}}}}
    return {"openapi": "3.1.0", "paths": {path: operation for path in paths},
            "components": {"schemas": schemas, "securitySchemes": {"bearerAuth": {"type": "http"}}}}


def test_public_paths_only_and_colliding_schemas_namespaced() -> None:
    problem = {"type": "object"}
    documents = {
        "carts": _document(["/api/v1/cart", "/internal/carts", "/healthz"],
                           {"Item": {"type": "object", "properties": {"sku": {"type": "string"}}}, "Problem": problem}),
        "orders": _document(["/api/v1/orders", "/api/v1/orders/{id}", "/readyz", "/metrics"],
                            {"Item": {"type": "object", "properties": {"qty": {"type": "integer"}}},
                             "Problem": problem}),
    }
    documents["web"] = _document(["/healthz"], {})  # a service with no public operation has no group
    routes = {"/api/v1/cart": "carts", "/api/v1/orders": "orders"}
    merged = merge(documents, lambda path: next((name for prefix, name in routes.items()
                                                 if path == prefix or path.startswith(prefix + "/")), None))
    assert list(merged["paths"]) == ["/api/v1/cart", "/api/v1/orders", "/api/v1/orders/{id}"]
    assert set(merged["components"]["schemas"]) == {"CartsItem", "OrdersItem", "Problem"}
    ref = merged["paths"]["/api/v1/orders"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/OrdersItem"}
    assert merged["components"]["securitySchemes"] == {"bearerAuth": {"type": "http"}}
    assert merged["paths"]["/api/v1/orders/{id}"]["get"]["tags"] == ["orders"]
    assert [tag["name"] for tag in merged["tags"]] == ["carts", "orders"]
