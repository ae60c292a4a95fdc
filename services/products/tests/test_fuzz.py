from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.products.tests.conftest import Shop
from storefront_common.testing.fuzz import FuzzReport, fuzz_service, token_callers
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import Auth

OPERATIONS = 18


def test_every_answer_is_documented_for_every_caller(app: Flask, shop: Shop, auth: Auth,
                                                     fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    shop.product(shop.category("Phones", ["brand"]))
    callers = token_callers(auth.tokens, {"vendor": shop.vendor_id, "customer": shop.customer_id})
    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, callers)
    fuzz_note("products", report)
    report.assert_documented(OPERATIONS)
