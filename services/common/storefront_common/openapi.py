"""One decorator that validates a request and documents it; /openapi.json is built from those records."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .validation import parse_body, parse_query

F = TypeVar("F", bound=Callable[..., Any])
JSON = "application/json"
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer"}}
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
                400: "Body is not JSON or not a JSON object",
                401: "Missing, invalid or expired token", 402: "Insufficient funds",
                403: "Not allowed to this caller (its role, or a service token where a user account is needed)",
                404: "Not found", 409: "Conflict", 413: "Body too large",
                415: "Body is not application/json", 422: "Validation failed", 429: "Rate limited",
                503: "A dependency is down"}
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "Same key and body replay the first response; another body with the key is 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


@dataclass
class Operation:
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | dict[str, Any] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    request_headers: tuple[dict[str, Any], ...] = ()
    media_types: tuple[str, ...] = (JSON,)


def operation(summary: str, *, body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | dict[str, Any] | None = None, status: int = 200,
              errors: tuple[int, ...] = (), headers: dict[str, dict[str, Any]] | None = None,
              request_headers: tuple[dict[str, Any], ...] = (),
              media_types: tuple[str, ...] = (JSON,)) -> Callable[[F], F]:
    """Parse `body`/`query` into the view's keyword arguments and record the operation for OpenAPI.

    `headers` are response headers; `request_headers` are OpenAPI header parameters the view reads;
    `media_types` are the success's content types (`response` describes the JSON one, any other is text).
    Put it below `auth_required` so a missing token answers 401 before a bad body answers 422.
    """
    record = Operation(summary, body, query, response, status, errors, headers or {}, request_headers,
                       media_types)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            return view(*args, **kwargs)

        wrapper._operation = record  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def declare_responses(wrapper: Callable[..., Any], *statuses: int) -> None:
    """Document statuses a decorator's `wrapper` answers on its own (401 for a missing token, ...).

    `wrapper` is made with functools.wraps, so it carries what the decorators below it declared.
    """
    declared = getattr(wrapper, "_statuses", frozenset())
    wrapper._statuses = frozenset(declared) | set(statuses)  # type: ignore[attr-defined]


def _path_and_parameters(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _RULE_ARGUMENT.finditer(rule):
        schema = _CONVERTER_SCHEMAS.get(match["converter"] or "", {"type": "string"})
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return _RULE_ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def _query_parameters(model: type[BaseModel], definitions: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _json_content(schema: dict[str, Any], mime: str = JSON) -> dict[str, Any]:
    return {"content": {mime: {"schema": schema}}}


def _success(op: Operation, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status, "OK")}
    if op.response is not None:
        schema = op.response if isinstance(op.response, dict) else refs[(op.response, "serialization")]
        success["content"] = {mime: {"schema": schema if mime == JSON else {"type": "string"}}
                              for mime in op.media_types}
    if op.headers:
        success["headers"] = op.headers
    return success


def _describe(op: Operation, auth: dict[str, Any] | None, statuses: frozenset[int],
              refs: dict[Any, dict[str, Any]], definitions: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": op.summary, "responses": {str(op.status): _success(op, refs)}}
    error_codes = set(op.errors) | statuses
    if op.body is not None:
        described["requestBody"] = {"required": True, **_json_content(refs[(op.body, "validation")])}
        error_codes |= {400, 413, 415, 422}
    if op.query is not None:
        described["parameters"] = _query_parameters(op.query, definitions)
        error_codes.add(422)
    if op.request_headers:
        described["parameters"] = [{"in": "header", **header} for header in op.request_headers] + \
            described.get("parameters", [])
    if auth is not None:
        described["security"] = [{"bearerAuth": []}]
    for code in sorted(error_codes):
        described["responses"][str(code)] = {
            "description": _STATUS_TEXT.get(code, "Error"),
            **_json_content({"$ref": "#/components/schemas/Problem"}, "application/problem+json"),
        }
    return described


def build_spec(app: Flask, title: str, version: str = "1.0.0") -> dict[str, Any]:
    documented = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        op = getattr(view, "_operation", None)
        if op is not None:
            documented.append((rule, op, view))
    models = {(m, mode) for _, op, _ in documented
              for m, mode in ((op.body, "validation"), (op.response, "serialization"))
              if isinstance(m, type)}
    refs, top = models_json_schema(sorted(models, key=lambda item: (item[0].__name__, item[1])),
                                   ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for rule, op, view in sorted(documented, key=lambda item: item[0].rule):
        path, path_parameters = _path_and_parameters(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            described = _describe(op, getattr(view, "_auth", None), getattr(view, "_statuses", frozenset()),
                                  refs, definitions)
            if getattr(view, "_idempotency_key", False):
                described["parameters"] = [IDEMPOTENCY_KEY_PARAMETER, *described.get("parameters", [])]
            if path_parameters:
                described["parameters"] = path_parameters + described.get("parameters", [])
                described["responses"].setdefault("404", {
                    "description": "Not found",
                    **_json_content({"$ref": "#/components/schemas/Problem"}, "application/problem+json")})
            described["operationId"] = rule.endpoint.replace(".", "_")
            paths.setdefault(path, {})[method.lower()] = described
    definitions["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": definitions,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
