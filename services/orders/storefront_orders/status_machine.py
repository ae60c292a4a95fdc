"""The order status machine; a move is a conditional write (store.move_order), so concurrent moves cannot both
win."""
from __future__ import annotations

import uuid
from typing import Any

from . import store
from .models import OrderStatus

MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return OrderStatus(target) in MOVES[OrderStatus(current)]


def sources_of(target: OrderStatus) -> list[str]:
    return [source.value for source, targets in MOVES.items() if target in targets]


def move(order_id: uuid.UUID, target: OrderStatus, *, only_from: set[OrderStatus] | None = None,
         **values: Any) -> bool:
    """Move the order to `target` if its current status allows it; False when another move won."""
    sources = tuple(s for s in sources_of(target) if only_from is None or s in only_from)
    return store.move_order(order_id, sources, {"status": target.value, **values})
