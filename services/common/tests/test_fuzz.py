from __future__ import annotations

import uuid

from flask import Flask

from storefront_common.testing.fuzz import fuzz_service
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TokenFactory


def test_fuzzing_the_demo_service_finds_no_server_error(app: Flask, tokens: TokenFactory) -> None:
    headers = {**tokens.headers(str(uuid.uuid4()), ["customer"]), "Idempotency-Key": "fuzz"}
    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, lambda method, path: headers, max_examples=10)
    assert len(report.operations) == 3
    assert report.calls >= 30
    assert report.server_errors == []
