"""Schema-driven fuzzing: every operation of a service's /openapi.json, for each caller, valid and invalid input.

Each answer must be one the document describes: its status, its content type and its body, and never a 5xx.
Each operation with a JSON body also gets the hostile bodies a property-based generator rarely makes (deep
nesting, huge numbers, long strings, duplicate keys, wrong encodings and content types): each must be refused
with a 4xx problem (so nothing changed: a body is refused before a view acts on it).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from ..settings import MAX_BODY_BYTES
from .tokens import TokenFactory

HeadersFor = Callable[[str, str], dict[str, str]]
"""`headers_for(method, path)`: the headers one caller sends (its token, an Idempotency-Key, ...)."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_FAILURE_TEXT = 600
USER_ROLES = ("customer", "vendor", "admin")
EXAMPLES = 10
"""Examples per operation, caller and mode (valid, invalid): the five services take about two minutes on 2 cores."""
DEEP = 50_000
PROBLEM = "application/problem+json"
# JSON values put in place of each property of a valid body, one at a time.
HOSTILE_VALUES: dict[str, bytes] = {
    "deep arrays": b"[" * DEEP + b"]" * DEEP,
    "deep objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "a number beyond a double": b"1e400",
    "a negative number beyond a double": b"-1e400",
    "5000 digits": b"9" * 5000,
    "a number beyond 64 bits": b"18446744073709551616",
    "NaN": b"NaN",
    "Infinity": b"-Infinity",
    "a long string": b'"' + b"a" * 100_000 + b'"',
    "a lone surrogate": b'"\\ud800"',
    "a NUL": b'"a\\u0000b"',
}
_MARK = "\x1bhostile\x1b"


def _no_headers(method: str, path: str) -> dict[str, str]:
    return {}


ANONYMOUS: HeadersFor = _no_headers
"""The caller without a token."""


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    cases: dict[str, int] = field(default_factory=dict)
    hostile_cases: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(self.cases.values())

    def assert_documented(self, operations: int, examples: int = EXAMPLES) -> None:
        """Every operation was fuzzed by every caller, and every answer was one the document describes."""
        assert len(self.operations) == operations, self.operations
        assert all(count >= examples * operations for count in self.cases.values()), self.cases
        assert not self.failures, f"{len(self.failures)} answers stray from the document:\n\n" + \
            "\n\n".join(self.failures[:5])

    def summary(self, service: str) -> str:
        """One line for the closing note: `users: anonymous 280, customer 280, ... (15 operations)`."""
        counts = ", ".join(f"{caller} {count}" for caller, count in self.cases.items())
        return (f"{service}: {counts} ({len(self.operations)} operations, {self.calls} cases, "
                f"{self.hostile_cases} of them hostile bodies)")


def token_callers(tokens: TokenFactory, users: Mapping[str, uuid.UUID] | None = None, service: str = "svc:orders",
                  fresh_idempotency_key: bool = False) -> dict[str, HeadersFor]:
    """Anonymous, a user of each role (`users` pins a role's id) and a service token, each as `HeadersFor`.

    `fresh_idempotency_key` sends a new Idempotency-Key on every call, so a checkout is not a replay.
    """
    def caller(headers: dict[str, str]) -> HeadersFor:
        if fresh_idempotency_key:
            return lambda method, path: {**headers, "Idempotency-Key": uuid.uuid4().hex}
        return lambda method, path: headers

    ids = {role: (users or {}).get(role, uuid.uuid4()) for role in USER_ROLES}
    return {"anonymous": ANONYMOUS, **{role: caller(tokens.headers(ids[role], [role])) for role in USER_ROLES},
            "service": caller(tokens.headers(service, ["service"]))}


def fuzz_service(base_url: str, callers: Mapping[str, HeadersFor], max_examples: int = EXAMPLES,
                 only: Callable[[str], bool] = lambda path: True, document_path: str = "/openapi.json") -> FuzzReport:
    """Fuzz each documented operation over real HTTP as each caller, checking every answer against the document."""
    spec = requests.get(base_url + document_path, timeout=10).json()
    schema = schemathesis.openapi.from_dict(spec)
    report = FuzzReport()
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if only(operation.path)]
    report.operations = [f"{operation.method.upper()} {operation.path}" for operation in operations]
    for caller, headers_for in callers.items():
        report.cases[caller] = 0
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz_operation(operation, mode, base_url, caller, headers_for, max_examples, report)
            if any(body.media_type == "application/json" for body in operation.body):
                _send_hostile_bodies(operation, base_url, caller, headers_for, report)
    return report


def hostile_bodies(valid: object, properties: list[str]) -> Iterator[tuple[str, bytes, str]]:
    """(what, body, content type) for each hostile body, built from one `valid` body and its schema's properties."""
    body = valid if isinstance(valid, dict) and valid else {"x": 1}
    text = json.dumps(body)
    yield "unclosed nesting", b"[" * DEEP, "application/json"
    yield "a body beyond the limit", json.dumps({**body, "x": "a" * MAX_BODY_BYTES}).encode(), "application/json"
    first = next(iter(body))
    yield "a duplicate key", f"{text[:-1]}, {json.dumps(first)}: {json.dumps(body[first])}}}".encode(), \
        "application/json"
    yield "latin-1 text", json.dumps({**body, first: "café"}, ensure_ascii=False).encode("latin-1"), \
        "application/json"
    yield "UTF-16", text.encode("utf-16"), "application/json"
    yield "UTF-16 without a BOM", text.encode("utf-16-le"), "application/json"
    yield "a UTF-8 BOM", b"\xef\xbb\xbf" + text.encode(), "application/json"
    yield "text/plain", text.encode(), "text/plain"
    yield "a form", b"x=1", "application/x-www-form-urlencoded"
    for name in properties or ["x"]:
        template = json.dumps({**body, name: _MARK}).encode()
        for what, value in HOSTILE_VALUES.items():
            yield f"{what} in {name}", template.replace(json.dumps(_MARK).encode(), value), "application/json"


def _send_hostile_bodies(operation: schemathesis.APIOperation, base_url: str, caller: str,
                         headers_for: HeadersFor, report: FuzzReport) -> None:
    schema = next(body for body in operation.body if body.media_type == "application/json").definition["schema"]
    properties = list(schema.get("properties", {}))

    # One valid case gives the path, query and headers; only its body is replaced.
    @hypothesis.settings(max_examples=1, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
    @hypothesis.given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def call(case: schemathesis.Case) -> None:
        for what, body, content_type in hostile_bodies(case.body, properties):
            headers = {**(case.headers or {}), **headers_for(case.method, case.path), "Content-Type": content_type}
            response = requests.request(case.method, base_url + case.formatted_path, params=case.query,
                                        data=body, headers=headers, timeout=15)
            report.cases[caller] += 1
            report.hostile_cases += 1
            where = f"as {caller}: {case.method} {case.formatted_path} with {what} -> {response.status_code}"
            if not 400 <= response.status_code < 500 or response.headers.get("Content-Type") != PROBLEM:
                report.failures.append(f"{where}: not a 4xx problem: {response.text[:MAX_FAILURE_TEXT]}")
                continue
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as failed:
                report.failures.append(f"{where}: {str(failed)[:MAX_FAILURE_TEXT]}")

    call()


def _fuzz_operation(operation: schemathesis.APIOperation, mode: GenerationMode, base_url: str, caller: str,
                    headers_for: HeadersFor, max_examples: int, report: FuzzReport) -> None:
    @hypothesis.settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
        headers = {**(case.headers or {}), **headers_for(case.method, case.path)}
        response = case.call(base_url=base_url, headers=headers, timeout=15)
        report.cases[caller] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failed:
            report.failures.append(f"as {caller}: {case.method} {case.formatted_path} -> {response.status_code}: "
                                   f"{str(failed)[:MAX_FAILURE_TEXT]}")

    try:
        call()
    except hypothesis.errors.Unsatisfiable:
        # An operation with neither parameters nor a body has no invalid input to generate.
        if mode is not GenerationMode.NEGATIVE:
            raise
