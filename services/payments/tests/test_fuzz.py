from __future__ import annotations

import uuid

from conftest import Stack

from storefront_common.testing.fuzz import fuzz_service


def test_fuzzing_every_operation_finds_no_server_error(stack: Stack) -> None:
    vendor = stack.tokens.headers(uuid.uuid4(), ["vendor"])
    service = stack.service_headers()

    def headers_for(method: str, path: str) -> dict[str, str]:
        if path.startswith("/internal/"):
            return service
        if "/paystack/" in path:
            return {}  # public: the webhook must answer 401 to anything unsigned, never 5xx
        return {**vendor, "Idempotency-Key": "fuzz"}

    report = fuzz_service(stack.base_url, headers_for, max_examples=12)
    assert len(report.operations) >= 12
    assert report.calls >= 200
    assert report.server_errors == []
