"""The status machine's table: the contract's moves and no others."""
from __future__ import annotations

import itertools

from storefront_orders.models import OrderStatus
from storefront_orders.status import can_move

ALLOWED = {("pending", "paid"), ("pending", "cancelled"), ("paid", "shipped"), ("paid", "cancelled"),
           ("shipped", "delivered")}


def test_only_the_contracts_moves_are_allowed() -> None:
    for source, target in itertools.product(OrderStatus, OrderStatus):
        assert can_move(source, target) == ((source.value, target.value) in ALLOWED), (source, target)
