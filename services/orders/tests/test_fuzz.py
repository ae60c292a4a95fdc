"""Schemathesis over every documented operation, as every caller: each answer is one the document describes."""
from __future__ import annotations

from collections.abc import Callable

from services.orders.tests.conftest import Platform
from services.orders.tests.shop import Shop
from storefront_common.testing.fuzz import FuzzReport, fuzz_service, token_callers

OPERATIONS = 6


def test_every_answer_is_documented_for_every_caller(shop: Shop, platform: Platform,
                                                     fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    customer, vendor = shop.user("customer"), shop.user("vendor")
    shop.add(customer, shop.product(vendor, stock=50), quantity=2)
    shop.topup(customer, 100_000)
    callers = token_callers(shop.tokens, {"customer": customer.id, "vendor": vendor.id}, service="svc:payments",
                            fresh_idempotency_key=True)
    report = fuzz_service(platform.orders.url, callers)
    fuzz_note("orders", report)
    report.assert_documented(OPERATIONS)
