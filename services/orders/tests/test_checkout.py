"""POST /api/v1/orders: the checkout saga against the real products, carts and payments services."""
from __future__ import annotations

import uuid

from flask import Flask

from services.orders.tests.conftest import Platform
from services.orders.tests.shop import Shop, User
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.databases import recorded_statements
from storefront_common.testing.tokens import Auth
from storefront_orders.schemas import OrderOut


def test_wallet_checkout_is_paid_commits_the_stock_and_empties_the_cart(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=5_000, stock=10, quantity=2, funds=20_000)

    response = shop.checkout(buyer, "wallet")

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "paid"
    assert order["items"] == [{"product_id": product_id, "name": order["items"][0]["name"], "unit_price": 5_000,
                               "quantity": 2, "line_total": 10_000, "vendor_id": str(vendor.id)}]
    assert order["subtotal"] == order["total"] == 10_000 and order["currency"] == "NGN"
    assert order["payment"]["method"] == "wallet" and order["payment"]["status"] == "success"
    assert order["payment"]["reference"] and "authorization_url" not in order["payment"]
    assert order["shipping_address"]["country"] == "NG"
    assert order["created_at"].endswith("Z")
    assert shop.cart_items(buyer) == []
    assert shop.stock(product_id) == 8
    assert shop.balance(buyer) == 10_000
    assert shop.get(buyer, f"/{order['id']}").json() == order
    OrderOut.model_validate(order)


def test_an_order_of_several_vendors_is_stored_with_every_line_as_priced(shop: Shop) -> None:
    first_vendor, second_vendor = shop.user("vendor"), shop.user("vendor")
    buyer, lamp = shop.buyer_with_cart(first_vendor, price=2_500, quantity=3, funds=50_000)
    chair = shop.product(second_vendor, price=7_000)
    shop.add(buyer, chair, 1)

    response = shop.checkout(buyer)

    assert response.status_code == 201, response.text
    order = response.json()
    lines = sorted((item["product_id"], item["quantity"], item["line_total"], item["vendor_id"])
                   for item in order["items"])
    assert lines == sorted([(lamp, 3, 7_500, str(first_vendor.id)), (chair, 1, 7_000, str(second_vendor.id))])
    assert order["total"] == 14_500 and shop.balance(buyer) == 50_000 - 14_500
    assert shop.get(buyer, f"/{order['id']}").json() == order  # as stored, not only as answered


def test_the_order_lists_its_lines_in_the_order_the_cart_did(shop: Shop) -> None:
    vendor, buyer = shop.user("vendor"), shop.user("customer")
    shop.topup(buyer, 50_000)
    # Added against product-id order, which is the order products answers a reservation in.
    products = sorted((shop.product(vendor, price=1_000) for _ in range(3)), reverse=True)
    for product in products:
        shop.add(buyer, product, 1)

    order = shop.checkout(buyer).json()

    assert [item["product_id"] for item in order["items"]] == products
    assert shop.get(buyer, f"/{order['id']}").json()["items"] == order["items"]


def test_paystack_checkout_is_pending_until_paystack_confirms(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=7_500, quantity=1)

    response = shop.checkout(buyer, "paystack")

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending" and order["payment"]["status"] == "pending"
    assert order["payment"]["authorization_url"].startswith(shop.platform.paystack.url)
    OrderOut.model_validate(order)
    assert shop.stock(product_id) == 9  # reserved, not sold
    assert len(shop.cart_items(buyer)) == 1  # the cart stays until the order is paid

    assert shop.complete_paystack(order["payment"]["reference"])["webhook_status"] == 200

    paid = shop.get(buyer, f"/{order['id']}").json()
    assert paid["status"] == "paid" and paid["payment"]["status"] == "success"
    assert shop.cart_items(buyer) == []
    assert shop.stock(product_id) == 9


def test_an_empty_cart_is_422(shop: Shop) -> None:
    response = shop.checkout(shop.user("customer"))
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"


def test_not_enough_stock_is_409_with_the_shortfall_and_nothing_reserved(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer = shop.user("customer")
    plenty, scarce = shop.product(vendor, stock=10), shop.product(vendor, stock=3)
    shop.add(buyer, plenty, 2)
    shop.add(buyer, scarce, 3)
    # Another buyer takes two of the three while the first one's cart still asks for three.
    rival = shop.user("customer")
    shop.add(rival, scarce, 2)
    shop.topup(rival, 50_000)
    assert shop.checkout(rival).status_code == 201
    shop.topup(buyer, 50_000)

    response = shop.checkout(buyer)

    assert response.status_code == 409, response.text
    assert response.json()["insufficient"] == [{"product_id": scarce, "requested": 3, "available": 1}]
    assert shop.stock(plenty) == 10 and shop.stock(scarce) == 1
    assert shop.balance(buyer) == 50_000
    assert shop.get(buyer).json()["total"] == 0


def test_a_short_wallet_is_402_and_cancels_the_order_without_moving_money(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=5_000, quantity=2, funds=9_999)

    response = shop.checkout(buyer)

    assert response.status_code == 402, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    order = shop.get(buyer, f"/{response.json()['order_id']}").json()
    assert order["status"] == "cancelled" and order["payment"]["status"] == "failed"
    assert shop.stock(product_id) == 10
    assert shop.balance(buyer) == 9_999
    assert len(shop.cart_items(buyer)) == 1


def test_the_same_idempotency_key_returns_the_same_order_and_charges_once(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=5_000, quantity=1, funds=20_000)
    shop.add(buyer, product_id, 1)  # quantity 2 now

    first = shop.checkout(buyer, key="checkout-1")
    shop.add(buyer, product_id, 1)  # a new cart after the order must not leak into the replay
    again = shop.checkout(buyer, key="checkout-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert shop.balance(buyer) == 10_000
    assert shop.stock(product_id) == 8
    assert shop.get(buyer).json()["total"] == 1
    different = shop.checkout(buyer, method="paystack", key="checkout-1")
    assert different.status_code == 409


def test_the_idempotency_key_is_required_and_the_body_validated(client: HttpClient, auth: Auth) -> None:
    buyer = auth.customer()
    url = "/api/v1/orders"
    body = {"shipping_address": {"line1": "1 A St", "city": "Lagos", "country": "NG"}, "payment_method": "wallet"}

    assert client.post(url, json=body, headers=buyer, timeout=10).status_code == 422
    for bad in ({**body, "payment_method": "cash"},
                {**body, "shipping_address": {**body["shipping_address"], "country": "ZZ"}},
                {**body, "shipping_address": {"city": "Lagos", "country": "NG"}},
                {**body, "total": 1}):
        response = client.post(url, json=bad, headers={**buyer, "Idempotency-Key": uuid.uuid4().hex}, timeout=10)
        assert response.status_code == 422, bad
    assert client.post(url, json=body, timeout=10).status_code == 401
    broken = client.post(url, data="{", timeout=10,
                         headers={**buyer, "Idempotency-Key": "x", "Content-Type": "application/json"})
    assert broken.status_code == 400


def test_payments_down_mid_checkout_is_503_and_the_same_key_then_completes_once(
        shop: Shop, platform: Platform) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=4_000, quantity=2, funds=10_000)

    with platform.payments.down():
        response = shop.checkout(buyer, key="retry-me")
        assert response.status_code == 503, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        assert shop.stock(product_id) == 10  # the reservation was released

    assert shop.balance(buyer) == 10_000
    retried = shop.checkout(buyer, key="retry-me")
    assert retried.status_code == 201, retried.text
    assert retried.json()["status"] == "paid"
    assert shop.checkout(buyer, key="retry-me").json()["id"] == retried.json()["id"]
    assert shop.balance(buyer) == 2_000
    assert shop.stock(product_id) == 8
    assert shop.get(buyer).json()["total"] == 1


def test_products_down_is_503_and_nothing_moves(shop: Shop, platform: Platform) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=4_000, quantity=1, funds=10_000)

    with platform.products.down():
        response = shop.checkout(buyer, key="products-down")
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert shop.balance(buyer) == 10_000 and shop.stock(product_id) == 10

    assert shop.checkout(buyer, key="products-down").json()["status"] == "paid"
    assert shop.stock(product_id) == 9


def test_users_down_is_503_before_anything_is_reserved(shop: Shop, platform: Platform) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=4_000, quantity=1, funds=10_000)

    with platform.users.down():
        response = shop.checkout(buyer, key="users-down")
    assert response.status_code == 503 and shop.stock(product_id) == 10
    assert shop.get(buyer).json()["total"] == 0

    assert shop.checkout(buyer, key="users-down").json()["status"] == "paid"


def test_a_token_carrying_the_email_checks_out_without_asking_users(shop: Shop, platform: Platform,
                                                                    auth: Auth) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=4_000, quantity=1, funds=10_000)
    with_email = User(buyer.id, auth.tokens.headers(buyer.id, ["customer"], email="ada@example.test"))

    with platform.users.down():
        response = shop.checkout(with_email)
    assert response.status_code == 201 and response.json()["status"] == "paid"
    assert shop.stock(product_id) == 9


def test_a_wallet_checkout_costs_orders_six_round_trips(shop: Shop, app: Flask) -> None:
    """The checkout's hot path: single statements in autocommit, the order and its lines in one of them."""
    vendor = shop.user("vendor")
    buyer, _ = shop.buyer_with_cart(vendor, price=4_000, quantity=1, funds=10_000)
    with recorded_statements(app, words=1, transactions=True) as seen:
        response = shop.checkout(buyer)
    assert response.status_code == 201 and response.json()["status"] == "paid"
    # claim the key, look for the order, record it with its lines, paid, stock kept and cart emptied, settle
    assert seen == ["INSERT", "SELECT", "WITH", "UPDATE", "UPDATE", "UPDATE"]
