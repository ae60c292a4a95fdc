"""The shop's journeys end to end: sign-up to delivery, both ways of paying, refunds and payouts."""
from __future__ import annotations

import uuid
from typing import Any

import requests

from storefront_dev.shop_api import Account, Api


def _fill_cart(api: Api, customer: Account, product: dict[str, Any], quantity: int) -> None:
    api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product["id"], "quantity": quantity})


def _stock(api: Api, product: dict[str, Any]) -> int:
    return int(api.expect(200, "GET", f"/api/v1/products/{product['id']}")["stock"])


def _move(api: Api, actor: Account, order: dict[str, Any], status: str) -> dict[str, Any]:
    return api.expect(200, "PATCH", f"/api/v1/orders/{order['id']}/status", actor, json={"status": status})


def test_wallet_order_from_sign_up_to_delivery(api: Api, vendor: Account, customer: Account,
                                               make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=250_000, stock=10)
    api.top_up(customer, 1_000_000)
    assert api.wallet(customer)["balance"] == 1_000_000
    _fill_cart(api, customer, product, 2)
    assert api.expect(200, "GET", "/api/v1/cart", customer)["subtotal"] == 500_000

    response = api.checkout(customer, "wallet")
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "paid" and order["total"] == 500_000 and order["payment"]["method"] == "wallet"
    assert api.wallet(customer)["balance"] == 500_000
    assert api.expect(200, "GET", "/api/v1/cart", customer)["items"] == []
    assert _stock(api, product) == 8
    assert api.wallet(vendor)["escrow_pending"] == 500_000

    _move(api, vendor, order, "shipped")
    delivered = _move(api, vendor, order, "delivered")
    assert delivered["status"] == "delivered"
    assert api.wallet(vendor) | {"currency": "NGN"} == {"balance": 500_000, "currency": "NGN", "escrow_pending": 0}
    kinds = [entry["kind"] for entry in api.expect(200, "GET", "/api/v1/wallet/transactions", vendor)["items"]]
    assert "escrow_release" in kinds
    assert api.call("PATCH", f"/api/v1/orders/{order['id']}/status", vendor,
                    json={"status": "shipped"}).status_code == 409


def test_paystack_checkout_is_paid_once_the_simulator_completes(api: Api, customer: Account,
                                                                make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=120_000, stock=5)
    _fill_cart(api, customer, product, 1)
    order = api.checkout(customer, "paystack").json()
    assert order["status"] == "pending"
    checkout_url = order["payment"]["authorization_url"]
    page = requests.get(checkout_url, timeout=30)
    assert page.status_code == 200 and "Pay" in page.text and "Decline" in page.text
    assert _stock(api, product) == 4  # reserved while the customer pays

    assert api.complete_paystack(order["payment"]["reference"])["webhook_status"] == 200
    paid = api.expect(200, "GET", f"/api/v1/orders/{order['id']}", customer)
    assert paid["status"] == "paid"
    assert api.expect(200, "GET", "/api/v1/cart", customer)["items"] == []
    payment = api.expect(200, "GET", f"/api/v1/payments/{order['payment']['reference']}", customer)
    assert payment["status"] == "success" and payment["purpose"] == "order" and payment["amount"] == 120_000


def test_replayed_idempotency_key_returns_the_same_order_and_charges_once(
        api: Api, customer: Account, make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=100_000, stock=5)
    api.top_up(customer, 300_000)
    _fill_cart(api, customer, product, 1)
    key = uuid.uuid4().hex
    first = api.checkout(customer, "wallet", key)
    again = api.checkout(customer, "wallet", key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert api.wallet(customer)["balance"] == 200_000
    assert _stock(api, product) == 4
    orders = api.expect(200, "GET", "/api/v1/orders", customer)
    assert orders["total"] == 1


def test_cancelling_a_paid_order_refunds_the_wallet_and_returns_stock(
        api: Api, customer: Account, make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=200_000, stock=3)
    api.top_up(customer, 200_000)
    _fill_cart(api, customer, product, 1)
    order = api.checkout(customer, "wallet").json()
    assert api.wallet(customer)["balance"] == 0
    cancelled = api.expect(200, "POST", f"/api/v1/orders/{order['id']}/cancel", customer)
    assert cancelled["status"] == "cancelled"
    assert api.wallet(customer)["balance"] == 200_000
    assert _stock(api, product) == 3
    assert api.call("POST", f"/api/v1/orders/{order['id']}/cancel", customer).status_code == 409


def test_another_customer_cannot_see_an_order(api: Api, customer: Account,
                                              make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=50_000, stock=2)
    api.top_up(customer, 50_000)
    _fill_cart(api, customer, product, 1)
    order = api.checkout(customer, "wallet").json()
    stranger = api.sign_up()
    assert api.call("GET", f"/api/v1/orders/{order['id']}", stranger).status_code == 404
    assert api.call("GET", f"/api/v1/payments/{order['payment']['reference']}", stranger).status_code == 404


def test_vendor_payouts_succeed_or_come_back_to_the_wallet(api: Api, vendor: Account, customer: Account,
                                                           make_product) -> None:  # type: ignore[no-untyped-def]
    product = make_product(price=400_000, stock=2)
    api.top_up(customer, 400_000)
    _fill_cart(api, customer, product, 1)
    order = api.checkout(customer, "wallet").json()
    _move(api, vendor, order, "shipped")
    _move(api, vendor, order, "delivered")
    assert api.wallet(vendor)["balance"] == 400_000

    api.expect(200, "PUT", "/api/v1/wallet/payout-account", vendor,
               json={"account_number": "0123456789", "bank_code": "058"})
    paid_out = api.expect(201, "POST", "/api/v1/wallet/payouts", vendor, json={"amount": 150_000},
                          key=uuid.uuid4().hex)
    api.expect(200, "POST", f"/_paystack/_simulator/transfers/{paid_out['reference']}/complete",
               json={"outcome": "success"})
    assert api.wallet(vendor)["balance"] == 250_000

    failed = api.expect(201, "POST", "/api/v1/wallet/payouts", vendor, json={"amount": 100_000},
                        key=uuid.uuid4().hex)
    assert api.wallet(vendor)["balance"] == 150_000
    api.expect(200, "POST", f"/_paystack/_simulator/transfers/{failed['reference']}/complete",
               json={"outcome": "failed"})
    assert api.wallet(vendor)["balance"] == 250_000
    kinds = [entry["kind"] for entry in api.expect(200, "GET", "/api/v1/wallet/transactions", vendor)["items"]]
    assert kinds.count("payout") == 2 and kinds.count("payout_reversal") == 1
