"""The local runner keeps orders in SQLite: the saga and the status machine work there too."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from services.orders.tests.conftest import Platform, Server, common_settings
from services.orders.tests.shop import Shop
from storefront_common.testing.tokens import SignedServiceTokens, TokenFactory
from storefront_orders.app import create_app
from storefront_orders.dependencies import db
from storefront_orders.settings import Settings


@pytest.fixture()
def app(platform: Platform, tmp_path: Path, jwks_url: str, tokens: TokenFactory) -> Iterator[Flask]:
    """An orders app on SQLite, served in the platform's place for orders while the test runs."""
    settings = Settings(**common_settings(jwks_url, f"sqlite:///{tmp_path / 'orders.db'}", platform.urls()))
    sqlite_app = create_app(settings, tokens=SignedServiceTokens(tokens, "orders"))
    server = Server(sqlite_app)
    server.start()
    original = platform.orders
    platform.orders = server
    try:
        yield sqlite_app
    finally:
        platform.orders = original
        server.stop()
        with sqlite_app.app_context():
            db.engine.dispose()


def test_checkout_cancel_and_delivery_on_sqlite(shop: Shop) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=2_000, quantity=2, funds=8_000)

    paid = shop.checkout(buyer, key="sqlite-1")
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "paid" and shop.stock(product_id) == 8
    assert shop.checkout(buyer, key="sqlite-1").json() == paid.json()
    assert shop.get(buyer).json()["total"] == 1

    order_id = paid.json()["id"]
    assert shop.set_status(vendor, order_id, "shipped").json()["status"] == "shipped"
    assert shop.set_status(vendor, order_id, "delivered").json()["status"] == "delivered"
    assert shop.balance(vendor) == 4_000

    shop.add(buyer, product_id, 1)
    second = shop.checkout(buyer).json()
    cancelled = shop.cancel(buyer, second["id"])
    assert cancelled.status_code == 200 and cancelled.json()["payment"]["status"] == "refunded"
    assert shop.balance(buyer) == 4_000
