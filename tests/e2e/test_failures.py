"""Trust under stress: a race for the last units, a payments outage mid-checkout, a lost webhook, a currency
the shop cannot settle."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from storefront_dev.shop_api import Account, Api
from storefront_dev.runner.platform import LocalPlatform


def test_fifty_customers_race_for_ten_units(api: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=10_000, stock=10)
    customers = [api.sign_up() for _ in range(50)]
    for customer in customers:
        api.top_up(customer, 10_000)
        api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product["id"], "quantity": 1})

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda customer: api.checkout(customer, "wallet"), customers))

    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == 40, statuses
    assert all(response.json()["status"] == "paid" for response in responses if response.status_code == 201)
    assert api.expect(200, "GET", f"/api/v1/products/{product['id']}")["stock"] == 0
    for customer, response in zip(customers, responses, strict=True):
        assert api.wallet(customer)["balance"] == (0 if response.status_code == 201 else 10_000)


def test_payments_down_during_checkout_moves_no_money_and_the_retry_completes_once(
        api: Api, platform: LocalPlatform, customer: Account, make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=70_000, stock=4)
    api.top_up(customer, 200_000)
    api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product["id"], "quantity": 2})
    key = uuid.uuid4().hex
    platform.stop_service("payments")
    try:
        outage = api.checkout(customer, "wallet", key)
        assert outage.status_code == 503 and outage.headers["Content-Type"] == "application/problem+json"
        assert outage.headers["Retry-After"]
        assert api.expect(200, "GET", f"/api/v1/products/{product['id']}")["stock"] == 4
    finally:
        platform.start_service("payments")
    assert api.wallet(customer)["balance"] == 200_000

    retried = api.checkout(customer, "wallet", key)
    assert retried.status_code == 201 and retried.json()["status"] == "paid"
    assert api.checkout(customer, "wallet", key).json()["id"] == retried.json()["id"]
    assert api.wallet(customer)["balance"] == 200_000 - 140_000
    assert api.expect(200, "GET", f"/api/v1/products/{product['id']}")["stock"] == 2


def test_a_lost_webhook_is_settled_exactly_once_on_read(api: Api, platform: LocalPlatform, customer: Account,
                                                        make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=90_000, stock=2)
    api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product["id"], "quantity": 1})
    order = api.checkout(customer, "paystack").json()
    reference = order["payment"]["reference"]
    platform.stop_service("payments")
    try:
        assert api.complete_paystack(reference)["webhook_status"] != 200
    finally:
        platform.start_service("payments")

    first = api.expect(200, "GET", f"/api/v1/payments/{reference}", customer)
    second = api.expect(200, "GET", f"/api/v1/payments/{reference}", customer)
    assert first["status"] == second["status"] == "success"
    assert api.expect(200, "GET", f"/api/v1/orders/{order['id']}", customer)["status"] == "paid"
    api.expect(200, "POST", f"/_paystack/_simulator/webhooks/{reference}/replay")
    assert api.expect(200, "GET", f"/api/v1/orders/{order['id']}", customer)["status"] == "paid"


def test_a_product_in_a_currency_the_shop_cannot_settle_never_reaches_a_cart(
        api: Api, vendor: Account, customer: Account, category: dict[str, Any]) -> None:
    body = {"name": f"Dollar shea {uuid.uuid4().hex[:6]}", "price": 500, "stock": 5, "currency": "USD",
            "category_id": category["id"]}
    refused = api.call("POST", "/api/v1/products", vendor, json=body)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"] == [{"field": "currency", "message": "The product is priced in USD; this shop "
                                                                        "sells and settles in NGN only."}]
    assert api.expect(200, "GET", f"/api/v1/products?vendor_id={vendor.id}")["total"] == 0
    assert api.checkout(customer, "wallet").status_code == 422  # an empty cart: nothing to check out
    assert api.expect(200, "GET", "/api/v1/orders", customer)["total"] == 0
