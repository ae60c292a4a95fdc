"""Schema-driven fuzzing: every operation of a service's /openapi.json, for each caller, valid and invalid input.

Each answer must be one the document describes: its status, its content type and its body, and never a 5xx.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
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

from .tokens import TokenFactory

HeadersFor = Callable[[str, str], dict[str, str]]
"""`headers_for(method, path)`: the headers one caller sends (its token, an Idempotency-Key, ...)."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_FAILURE_TEXT = 600
USER_ROLES = ("customer", "vendor", "admin")
EXAMPLES = 10
"""Examples per operation, caller and mode (valid, invalid): the five services take about two minutes on 2 cores."""


def _no_headers(method: str, path: str) -> dict[str, str]:
    return {}


ANONYMOUS: HeadersFor = _no_headers
"""The caller without a token."""


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    cases: dict[str, int] = field(default_factory=dict)
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
        return f"{service}: {counts} ({len(self.operations)} operations, {self.calls} cases)"


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
                 only: Callable[[str], bool] = lambda path: True) -> FuzzReport:
    """Fuzz each documented operation over real HTTP as each caller, checking every answer against the document."""
    spec = requests.get(f"{base_url}/openapi.json", timeout=10).json()
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
    return report


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
