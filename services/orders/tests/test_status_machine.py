"""The status machine: the contract's moves and no others, and what a loaded order shows after a move."""
from __future__ import annotations

import itertools
import uuid

from flask import Flask
from sqlalchemy import update

from services.orders.tests.shop import Shop
from storefront_orders.dependencies import db
from storefront_orders.models import Order, OrderStatus
from storefront_orders.status_machine import can_move, move
from storefront_orders.store import set_order_fields

ALLOWED = {("pending", "paid"), ("pending", "cancelled"), ("paid", "shipped"), ("paid", "cancelled"),
           ("shipped", "delivered")}


def test_only_the_contracts_moves_are_allowed() -> None:
    for source, target in itertools.product(OrderStatus, OrderStatus):
        assert can_move(source, target) == ((source.value, target.value) in ALLOWED), (source, target)


def test_a_loaded_order_follows_its_own_writes_and_sees_a_move_it_lost(shop: Shop, app: Flask) -> None:
    vendor = shop.user("vendor")
    buyer, _ = shop.buyer_with_cart(vendor, price=4_000, quantity=1)
    order_id = uuid.UUID(shop.checkout(buyer, "paystack").json()["id"])

    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order is not None and order.status == "pending"
        set_order_fields(order_id, authorization_url="https://pay.example/again")
        assert order.authorization_url == "https://pay.example/again"  # our write, without a re-read

        with db.engine.begin() as elsewhere:  # another worker cancels it meanwhile
            elsewhere.execute(update(Order).where(Order.id == order_id).values(status="cancelled"))
        assert not move(order_id, OrderStatus.PAID, only_from={OrderStatus.PENDING})
        assert order.status == "cancelled" and len(order.items) == 1
