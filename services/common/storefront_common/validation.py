"""Request bodies and query strings parsed into pydantic models: 400 for bad JSON, 422 for bad data."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ProblemError, validation_error

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    """Base of request bodies: strict types (no "2" for 2) and no unknown fields.

    A whole-number float is an integer (`5.0` for 5): JSON Schema's `integer` is "a number with a zero
    fractional part", so the documents allow it; `parse_body` reads such numbers as integers.
    """

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """Base of query strings: values arrive as text, so types are coerced."""

    model_config = ConfigDict(extra="ignore")


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    found = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        found.append({"field": field, "message": item["msg"]})
    return found


def _nul_fields(value: Any, path: str = "") -> list[str]:
    """Where a decoded JSON value holds a NUL character (PostgreSQL text cannot store one)."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        return [field for key, item in value.items()
                for field in _nul_fields(key, path) + _nul_fields(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        return [field for index, item in enumerate(value) for field in _nul_fields(item, f"{path}.{index}")]
    return []


def _refuse_nul(fields: list[str]) -> None:
    if fields:
        raise validation_error([{"field": field, "message": "Must not contain NUL characters."}
                                for field in dict.fromkeys(fields)])


def _integral_floats_as_ints(value: Any) -> tuple[Any, bool]:
    """`value` with each whole-number float (5.0, 1e3) as an int, and whether any was found."""
    if isinstance(value, float) and value.is_integer():
        return int(value), True
    if isinstance(value, dict):
        pairs = [(key, _integral_floats_as_ints(item)) for key, item in value.items()]
        return {key: item for key, (item, _) in pairs}, any(found for _, (_, found) in pairs)
    if isinstance(value, list):
        items = [_integral_floats_as_ints(item) for item in value]
        return [item for item, _ in items], any(found for _, found in items)
    return value, False


def _as_integers(raw: bytes, decoded: Any) -> bytes:
    """The body to validate: `raw` itself, or re-encoded when it holds whole-number floats."""
    normalized, found = _integral_floats_as_ints(decoded)
    return json.dumps(normalized).encode() if found else raw


def parse_body(model: type[M]) -> M:
    raw = request.get_data(cache=True)
    try:
        decoded = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        raise ProblemError(400, "The request body is not valid JSON.") from None
    if not isinstance(decoded, dict):
        raise ProblemError(400, "The request body must be a JSON object.")
    _refuse_nul(_nul_fields(decoded))
    try:
        return model.model_validate_json(_as_integers(raw, decoded))
    except ValidationError as error:
        raise validation_error(_field_errors(error)) from None


def parse_query(model: type[M]) -> M:
    values: dict[str, Any] = {}
    for key in request.args:
        items = request.args.getlist(key)
        values[key] = items if len(items) > 1 else items[0]
    _refuse_nul([key for key in request.args if any("\x00" in item for item in request.args.getlist(key))])
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise validation_error(_field_errors(error), "The query string failed validation.") from None
