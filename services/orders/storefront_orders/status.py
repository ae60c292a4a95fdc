"""The order status machine, enforced by a conditional UPDATE so concurrent moves cannot both win."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, update

from storefront_common.timeutil import utcnow

from .extensions import db
from .models import Order, OrderStatus

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
    sources = [s for s in sources_of(target) if only_from is None or s in only_from]
    result = db.session.execute(
        update(Order).where(Order.id == order_id, Order.status.in_(sources))
        .values(status=target.value, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()
    return result.rowcount == 1  # type: ignore[attr-defined]


def set_fields(order_id: uuid.UUID, *conditions: ColumnElement[bool], **values: Any) -> None:
    """Bookkeeping that does not change the status (saga progress flags, payment details)."""
    db.session.execute(update(Order).where(Order.id == order_id, *conditions)
                       .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()
