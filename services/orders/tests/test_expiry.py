"""flask expire-unpaid-orders: unpaid orders are cancelled and deferred follow-ups are finished."""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from services.orders.tests.conftest import Platform
from services.orders.tests.shop import Shop
from storefront_common.timeutil import utcnow
from storefront_orders.dependencies import db
from storefront_orders.models import Order


def run_job(app: Flask) -> dict[str, int]:
    result = app.test_cli_runner().invoke(args=["expire-unpaid-orders"])
    assert result.exit_code == 0, result.output
    return {name: int(count) for name, count in (part.split("=") for part in result.output.split())}


def backdate(app: Flask, order_id: str, seconds: int) -> None:
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == uuid.UUID(order_id))
                           .values(created_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def test_unpaid_orders_older_than_the_timeout_are_cancelled_and_their_stock_returned(shop: Shop, app: Flask) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, quantity=4)
    stale = shop.checkout(buyer, "paystack").json()
    fresh_buyer, fresh_product = shop.buyer_with_cart(vendor, quantity=1)
    fresh = shop.checkout(fresh_buyer, "paystack").json()
    backdate(app, stale["id"], 1801)
    assert shop.stock(product_id) == 6

    assert run_job(app)["expired"] == 1

    assert shop.get(buyer, f"/{stale['id']}").json()["status"] == "cancelled"
    assert shop.stock(product_id) == 10
    assert shop.get(fresh_buyer, f"/{fresh['id']}").json()["status"] == "pending"
    assert shop.stock(fresh_product) == 9
    assert run_job(app)["expired"] == 0
    # Paying late is refused by orders; payments then refunds the buyer.
    shop.complete_paystack(stale["payment"]["reference"])
    assert shop.get(buyer, f"/{stale['id']}").json()["status"] == "cancelled"


def test_a_release_deferred_by_an_outage_is_finished_by_the_job(shop: Shop, platform: Platform,
                                                                 app: Flask) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, quantity=2)
    order = shop.checkout(buyer, "paystack").json()

    with platform.products.down():
        response = shop.cancel(buyer, order["id"])
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert run_job(app)["deferred"] >= 1

    assert shop.stock(product_id) == 8
    assert run_job(app)["finished"] >= 1
    assert shop.stock(product_id) == 10
    assert run_job(app) == {"expired": 0, "finished": 0, "deferred": 0}


def test_a_deferred_cart_clear_takes_out_only_what_the_order_bought(shop: Shop, platform: Platform,
                                                                     app: Flask) -> None:
    """Carts is down when a Paystack order is paid; the buyer fills the cart again before the job runs."""
    vendor = shop.user("vendor")
    buyer, bought = shop.buyer_with_cart(vendor, price=1_000, quantity=2)
    order = shop.checkout(buyer, "paystack").json()

    with platform.carts.down():
        assert shop.complete_paystack(order["payment"]["reference"])["webhook_status"] == 200
        assert shop.get(buyer, f"/{order['id']}").json()["status"] == "paid"
        assert run_job(app)["deferred"] >= 1
    # The cart still holds the paid units: the buyer adds a product for a next order, and one more paid unit.
    later = shop.product(vendor, price=2_000)
    shop.add(buyer, later, 1)
    shop.add(buyer, bought, 1)

    assert run_job(app)["finished"] >= 1

    assert {item["product_id"]: item["quantity"] for item in shop.cart_items(buyer)} == {bought: 1, later: 1}
    assert run_job(app) == {"expired": 0, "finished": 0, "deferred": 0}
    shop.topup(buyer, 3_000)
    following = shop.checkout(buyer)
    assert following.status_code == 201, following.text
    assert following.json()["status"] == "paid"
    assert {item["product_id"]: item["quantity"] for item in following.json()["items"]} == {bought: 1, later: 1}
    assert shop.cart_items(buyer) == []
