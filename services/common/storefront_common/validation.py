"""Request bodies and query strings parsed into pydantic models: 400 for bad JSON, 422 for bad data."""
from __future__ import annotations

import json
import re
from typing import Any, NoReturn, TypeVar

from flask import g, request
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ProblemError, validation_error

M = TypeVar("M", bound=BaseModel)
MAX_JSON_DEPTH = 64
# Beyond 64 bits no column stores it, and beyond about 4300 digits Python will not even parse it.
MAX_JSON_INTEGER = 2 ** 63 - 1
_BRACKET_OR_QUOTE = re.compile(rb'["\[\]{}]')
_REST_OF_STRING = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BodyTooDeep(ProblemError):
    def __init__(self) -> None:
        super().__init__(400, f"The request body nests arrays and objects more than {MAX_JSON_DEPTH} deep.")


def _refuse_too_deep(raw: bytes) -> None:
    """Raise BodyTooDeep before decoding: the decoders recurse once per level, without a limit of their own."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    depth, position = 0, 0
    while found := _BRACKET_OR_QUOTE.search(raw, position):
        char, position = found.group(), found.end()
        if char == b'"':
            rest = _REST_OF_STRING.match(raw, position)
            if rest is None:
                return  # an unterminated string: the decoder refuses it before it gets deeper than this
            position = rest.end()
        elif char in b"[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise BodyTooDeep()
        else:
            depth -= 1


def _refuse(reason: str) -> NoReturn:
    raise ValueError(reason)


def _out_of_range(_: str = "") -> NoReturn:
    # Well-formed JSON (but NaN and Infinity) whose value no field takes: a validation failure, as before.
    raise validation_error([{"field": "body", "message": "A number is out of range: integers must fit in 64 bits, "
                                                         "other numbers must be finite."}])


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    decoded = dict(pairs)
    if len(decoded) != len(pairs):
        _refuse("it has a duplicate key in an object")
    return decoded


def _bounded_int(text: str) -> int:
    value = int(text) if len(text) <= 20 else None
    if value is None or abs(value) > MAX_JSON_INTEGER:
        _out_of_range()
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        _out_of_range()
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(key) or _has_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def decode_json(raw: bytes) -> Any:
    """`raw` decoded as JSON is exchanged (RFC 8259 and I-JSON, RFC 7493): UTF-8 text without a BOM, unique keys,
    numbers a column can hold (no NaN or Infinity), no lone surrogates, nesting at most MAX_JSON_DEPTH deep.

    Raises BodyTooDeep (a 400 problem), a 422 problem for a number out of range, and ValueError, whose text says
    what else is wrong. Request bodies are parsed and fingerprinted for idempotency through here, so the two
    cannot disagree on what a body means.
    """
    _refuse_too_deep(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _refuse("it is not UTF-8 text")
    try:
        decoded = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int,
                             parse_float=_finite_float, parse_constant=_out_of_range)
    except RecursionError:
        raise BodyTooDeep() from None
    except json.JSONDecodeError as error:
        _refuse(f"{error.msg} (character {error.pos})")
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(decoded):
        _refuse("a string holds a lone surrogate")
    return decoded


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


def request_body() -> bytes:
    """The raw body; a 413 problem over MAX_CONTENT_LENGTH. Werkzeug answers 413 itself when Content-Length says
    so, but stops reading a chunked body at the limit without a word: such a body of the limit or more is refused
    here (one of exactly the limit cannot be told apart from a longer one)."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        raise ProblemError(413, f"The request body must be less than {limit} bytes.")
    return raw


def request_json() -> Any:
    """The request's body decoded by decode_json (None when empty); a 413, 415 or 400 problem when it is no JSON.
    Decoded once per request: an idempotent endpoint's fingerprint and its body's validation both read it."""
    if "decoded_body" not in g:
        g.decoded_body = _decode_request_body()
    return g.decoded_body


def _decode_request_body() -> Any:
    raw = request_body()
    if not raw:
        return None
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ProblemError(415, "The request body must be application/json.")
    try:
        return decode_json(raw)
    except ValueError as error:
        raise ProblemError(400, f"The request body is not valid JSON: {error}.") from None


def parse_body(model: type[M]) -> M:
    decoded = request_json()
    raw = request_body()
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
