"""The order status machine, enforced by a conditional UPDATE so concurrent moves cannot both win."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

from storefront_common.timeutil import utcnow

from .extensions import db
from .models import Order, OrderStatus

# Every order write returns the whole row, so the loaded order can be brought up to date without a re-read.
_TABLE = Order.__table__
_COLUMNS = {attribute.key: attribute.columns[0] for attribute in Order.__mapper__.column_attrs}
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
    return _update(order_id, [Order.status.in_(sources)], {"status": target.value, **values})


def set_fields(order_id: uuid.UUID, *conditions: ColumnElement[bool], **values: Any) -> None:
    """Bookkeeping that does not change the status (saga progress flags, payment details)."""
    _update(order_id, list(conditions), values)


def _update(order_id: uuid.UUID, conditions: list[ColumnElement[bool]], values: dict[str, Any]) -> bool:
    """One conditional UPDATE, committed; the loaded order (if any) then holds the row as written.

    When the condition did not match, somebody else changed the order: it is expired, so the next
    read sees their version. The lines are never rewritten, so they stay loaded either way.
    """
    # On the table, not the entity: the ORM's bulk-UPDATE machinery cost more than the statement itself.
    written = db.session.execute(
        update(_TABLE).where(_TABLE.c.id == order_id, *conditions).values(updated_at=utcnow(), **values)
        .returning(*_COLUMNS.values())).one_or_none()
    db.session.commit()
    loaded = db.session.identity_map.get(identity_key(Order, order_id))
    if loaded is not None:
        if written is None:
            db.session.expire(loaded, list(_COLUMNS))
        else:
            for key, value in zip(_COLUMNS, written, strict=True):
                set_committed_value(loaded, key, value)
    return written is not None
