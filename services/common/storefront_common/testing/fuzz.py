"""Schema-driven fuzzing: every operation of a service's /openapi.json, valid and invalid input, no 5xx."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck
from schemathesis.generation import GenerationMode


@dataclass
class FuzzReport:
    calls: int = 0
    operations: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)


def fuzz_service(base_url: str, headers_for: Callable[[str, str], dict[str, str]],
                 max_examples: int = 15, only: Callable[[str], bool] = lambda path: True) -> FuzzReport:
    """Fuzz each documented operation over real HTTP; `headers_for(method, path)` supplies auth."""
    spec = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(spec)
    report = FuzzReport()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only(operation.path):
            continue
        report.operations.append(f"{operation.method.upper()} {operation.path}")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, base_url, headers_for, max_examples, report)
    return report


def _fuzz_operation(operation: object, mode: GenerationMode, base_url: str,
                    headers_for: Callable[[str, str], dict[str, str]], max_examples: int,
                    report: FuzzReport) -> None:
    @hypothesis.settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
    def call(case: schemathesis.Case) -> None:
        headers = {**(case.headers or {}), **headers_for(case.method, case.path)}
        response = case.call(base_url=base_url, headers=headers, timeout=15)
        report.calls += 1
        if response.status_code >= 500:
            report.server_errors.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

    try:
        call()
    except hypothesis.errors.Unsatisfiable:
        # An operation with neither parameters nor a body has no invalid input to generate.
        if mode is not GenerationMode.NEGATIVE:
            raise
