from __future__ import annotations

import uuid

from prometheus_client import REGISTRY

from conftest import Stack
from storefront_common.testing.fuzz import fuzz_service

WEBHOOK = "/api/v1/payments/paystack/webhook"


def webhook_answers() -> dict[str, float]:
    """How often the webhook answered each status so far (the service runs in this process)."""
    counts: dict[str, float] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == "http_requests_total" and sample.labels.get("endpoint") == WEBHOOK:
                counts[sample.labels["status"]] = counts.get(sample.labels["status"], 0) + sample.value
    return counts


def test_fuzzing_every_operation_finds_no_server_error(stack: Stack) -> None:
    vendor = stack.tokens.headers(uuid.uuid4(), ["vendor"])
    service = stack.service_headers()

    def headers_for(method: str, path: str) -> dict[str, str]:
        if path.startswith("/internal/"):
            return service
        if "/paystack/" in path:
            return {}  # public: the webhook must answer 401 to anything unsigned, never 5xx
        return {**vendor, "Idempotency-Key": "fuzz"}

    before = webhook_answers()
    report = fuzz_service(stack.base_url, headers_for, max_examples=12)
    assert len(report.operations) >= 12
    assert report.calls >= 200
    assert report.server_errors == []
    after = webhook_answers()
    grown = {status: after[status] - before.get(status, 0) for status in after if after[status] != before.get(status)}
    assert set(grown) == {"401"} and grown["401"] >= 10
