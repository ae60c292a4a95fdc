from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from conftest import Shop
from storefront_common.testing.fuzz import fuzz_service
from storefront_common.testing.servers import serve_wsgi


def test_fuzzing_every_operation_finds_no_server_error(app: Flask, client: FlaskClient, shop: Shop) -> None:
    category = shop.category("Phones", ["brand"])
    shop.product(category)
    callers = {"service": shop.service, "admin": shop.admin, "customer": shop.customer, "vendor": shop.vendor}

    def headers_for(method: str, path: str) -> dict[str, str]:
        if path.startswith("/internal/"):
            return callers["service"]
        if path.endswith("/reviews") and method.upper() == "POST":
            return callers["customer"]
        if path.startswith("/api/v1/products") and method.upper() != "GET":
            return callers["vendor"]
        return callers["admin"]

    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, headers_for, max_examples=12)
    assert len(report.operations) == 18
    assert report.calls >= 18 * 12
    assert report.server_errors == []
