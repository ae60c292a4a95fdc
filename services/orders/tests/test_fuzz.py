"""Schemathesis over every documented operation, valid and invalid input: never a 5xx."""
from __future__ import annotations

import uuid

from conftest import Platform
from shop import Shop
from storefront_common.testing.fuzz import fuzz_service


def test_fuzzing_the_orders_api_finds_no_server_error(shop: Shop, platform: Platform) -> None:
    customer = shop.tokens.headers(uuid.uuid4(), ["customer", "vendor", "admin"])
    service = shop.service_headers()

    def headers_for(method: str, path: str) -> dict[str, str]:
        if path.startswith("/internal/"):
            return service
        return {**customer, "Idempotency-Key": uuid.uuid4().hex}

    report = fuzz_service(platform.orders.url, headers_for, max_examples=12)
    assert len(report.operations) == 6
    assert report.calls >= 100
    assert report.server_errors == []
