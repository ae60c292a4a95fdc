"""After checkout: the status machine, cancelling with refunds, shipping, delivery and escrow release."""
from __future__ import annotations

from typing import Any

import requests

from services.orders.tests.shop import Shop, User
from storefront_common.testing.servers import HttpClient


def paid_order(shop: Shop, vendor: User, *, price: int = 5_000, quantity: int = 2) -> tuple[User, dict[str, Any]]:
    buyer, _ = shop.buyer_with_cart(vendor, price=price, quantity=quantity, funds=price * quantity)
    response = shop.checkout(buyer)
    assert response.status_code == 201, response.text
    return buyer, response.json()


def test_ship_then_deliver_releases_the_escrow_to_the_vendor(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, order = paid_order(shop, vendor, price=5_000, quantity=2)
    assert shop.wallet(vendor)["escrow_pending"] == 10_000

    shipped = shop.set_status(vendor, order["id"], "shipped")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    delivered = shop.set_status(vendor, order["id"], "delivered")
    assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"

    wallet = shop.wallet(vendor)
    assert wallet["balance"] == 10_000 and wallet["escrow_pending"] == 0
    assert shop.cancel(buyer, order["id"]).status_code == 409


def test_illegal_moves_are_409(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, order = paid_order(shop, vendor)
    admin = shop.admin()
    assert shop.set_status(admin, order["id"], "delivered").status_code == 409  # paid -> delivered
    assert shop.set_status(admin, order["id"], "shipped").status_code == 200
    assert shop.set_status(admin, order["id"], "shipped").status_code == 409  # shipped -> shipped
    assert shop.cancel(admin, order["id"]).status_code == 409  # shipped -> cancelled
    assert shop.set_status(admin, order["id"], "delivered").status_code == 200
    assert shop.set_status(admin, order["id"], "shipped").status_code == 409
    problem = shop.cancel(buyer, order["id"])
    assert problem.status_code == 409 and problem.headers["Content-Type"] == "application/problem+json"
    assert shop.set_status(admin, order["id"], "paid").status_code == 422  # not a status one can set

    pending_buyer, _ = shop.buyer_with_cart(vendor, quantity=1)
    pending = shop.checkout(pending_buyer, "paystack").json()
    assert shop.set_status(admin, pending["id"], "shipped").status_code == 409  # pending -> shipped
    assert shop.cancel(pending_buyer, pending["id"]).status_code == 200
    assert shop.cancel(pending_buyer, pending["id"]).status_code == 409  # cancelled -> cancelled


def test_cancelling_a_paid_wallet_order_refunds_it_in_full(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, order = paid_order(shop, vendor, price=6_000, quantity=1)
    assert shop.balance(buyer) == 0

    response = shop.cancel(buyer, order["id"])

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["payment"]["status"] == "refunded"
    assert shop.balance(buyer) == 6_000
    assert shop.wallet(vendor)["escrow_pending"] == 0


def test_cancelling_a_pending_order_returns_its_stock(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, quantity=3)
    order = shop.checkout(buyer, "paystack").json()
    assert shop.stock(product_id) == 7

    response = shop.cancel(buyer, order["id"])

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert shop.stock(product_id) == 10
    # Paying after the cancellation is refused by orders, and payments gives the money back.
    shop.complete_paystack(order["payment"]["reference"])
    assert shop.get(buyer, f"/{order['id']}").json()["status"] == "cancelled"
    assert shop.stock(product_id) == 10


def test_only_the_buyer_or_an_admin_cancels(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, order = paid_order(shop, vendor)
    assert shop.cancel(vendor, order["id"]).status_code == 403  # sees it, may not cancel it
    assert shop.cancel(shop.user("customer"), order["id"]).status_code == 404
    assert shop.cancel(shop.admin(), order["id"]).status_code == 200


def test_only_admin_or_the_vendor_of_every_item_moves_an_order(shop: Shop) -> None:
    vendor, other_vendor = shop.user("vendor"), shop.user("vendor")
    buyer, order = paid_order(shop, vendor)
    assert shop.set_status(buyer, order["id"], "shipped").status_code == 403
    assert shop.set_status(other_vendor, order["id"], "shipped").status_code == 404

    mixed_buyer = shop.user("customer")
    shop.add(mixed_buyer, shop.product(vendor, price=1_000), 1)
    shop.add(mixed_buyer, shop.product(other_vendor, price=2_000), 2)
    shop.topup(mixed_buyer, 5_000)
    mixed = shop.checkout(mixed_buyer).json()
    assert mixed["status"] == "paid"
    assert shop.set_status(vendor, mixed["id"], "shipped").status_code == 403
    admin = shop.admin()
    assert shop.set_status(admin, mixed["id"], "shipped").status_code == 200
    assert shop.set_status(admin, mixed["id"], "delivered").status_code == 200
    assert shop.balance(vendor) == 1_000 and shop.balance(other_vendor) == 4_000


def test_payment_events_are_checked_and_idempotent(shop: Shop, client: HttpClient) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=2_500, quantity=2)
    order = shop.checkout(buyer, "paystack").json()
    event = {"event": "payment.succeeded", "reference": order["payment"]["reference"], "amount": 5_000,
             "currency": "NGN"}

    assert shop.event(order["id"], {**event, "amount": 4_999}).status_code == 409
    assert shop.event(order["id"], {**event, "currency": "USD"}).status_code == 409
    assert shop.event(order["id"], {**event, "currency": "naira"}).status_code == 422
    assert shop.event(order["id"], {**event, "reference": "someone-else"}).status_code == 409
    first = shop.event(order["id"], event)
    again = shop.event(order["id"], event)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "paid"
    assert shop.stock(product_id) == 8 and shop.cart_items(buyer) == []
    assert shop.event(order["id"], {**event, "event": "payment.failed"}).status_code == 409
    unknown = "00000000-0000-4000-8000-000000000000"
    assert shop.event(unknown, event).status_code == 404
    path = f"/internal/orders/{order['id']}/payment-events"
    assert client.post(path, json=event, headers=buyer.headers, timeout=10).status_code == 403
    assert client.post(path, json=event, timeout=10).status_code == 401


def test_a_failed_paystack_payment_cancels_the_order_and_returns_the_stock(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=2_000, quantity=4)
    order = shop.checkout(buyer, "paystack").json()
    event = {"event": "payment.failed", "reference": order["payment"]["reference"], "amount": 8_000,
             "currency": "NGN"}
    assert shop.event(order["id"], event).status_code == 200
    assert shop.event(order["id"], event).status_code == 200
    after = shop.get(buyer, f"/{order['id']}").json()
    assert after["status"] == "cancelled" and after["payment"]["status"] == "failed"
    assert shop.stock(product_id) == 10
    succeeded = {**event, "event": "payment.succeeded"}
    assert shop.event(order["id"], succeeded).status_code == 409


def test_cancelling_a_paid_paystack_order_refunds_through_paystack(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, _ = shop.buyer_with_cart(vendor, price=3_000, quantity=1)
    order = shop.checkout(buyer, "paystack").json()
    reference = order["payment"]["reference"]
    shop.complete_paystack(reference)

    cancelled = shop.cancel(buyer, order["id"])

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["payment"]["status"] == "refund_pending"
    held = requests.get(f"{shop.platform.paystack.url}/_simulator/transactions", timeout=10).json()
    [refund] = [item for item in held["refunds"] if item["transaction"]["reference"] == reference]
    settled = requests.post(f"{shop.platform.paystack.url}/_simulator/refunds/{refund['id']}/complete",
                            json={"outcome": "processed"}, timeout=10)
    assert settled.status_code == 200 and settled.json()["webhook_status"] == 200
    assert shop.get(buyer, f"/{order['id']}").json()["payment"]["status"] == "refunded"
