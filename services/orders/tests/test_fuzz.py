"""Schemathesis over every documented operation, as every caller: each answer is one the document describes."""
from __future__ import annotations

from collections.abc import Callable

from services.orders.tests.shop import Shop
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.fuzz import FuzzReport, fuzz_service, token_callers
from storefront_common.testing.tokens import Auth

OPERATIONS = 6


def test_every_answer_is_documented_for_every_caller(shop: Shop, client: HttpClient, auth: Auth,
                                                     fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    customer, vendor = shop.user("customer"), shop.user("vendor")
    shop.add(customer, shop.product(vendor, stock=50), quantity=2)
    shop.topup(customer, 100_000)
    callers = token_callers(auth.tokens, {"customer": customer.id, "vendor": vendor.id}, service="svc:payments",
                            fresh_idempotency_key=True)
    report = fuzz_service(client.base_url, callers)
    fuzz_note("orders", report)
    report.assert_documented(OPERATIONS)
