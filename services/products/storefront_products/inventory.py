"""Stock adjustments by vendors: one conditional UPDATE each, so concurrent ones never lose an update."""
from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from storefront_common.errors import conflict

from . import store
from .models import MAX_STOCK

OUT_OF_BOUNDS = f"Stock must stay between 0 and {MAX_STOCK}."


def _committed(session: Session, stock: int | None) -> int:
    if stock is None:
        session.rollback()
        raise conflict(OUT_OF_BOUNDS)
    session.commit()
    return stock


def adjust_stock(session: Session, product_id: uuid.UUID, delta: int) -> int:
    return _committed(session, store.add_stock(session, product_id, delta))


def set_stock(session: Session, product_id: uuid.UUID, stock: int) -> int:
    if not 0 <= stock <= MAX_STOCK:
        raise conflict(OUT_OF_BOUNDS)
    return _committed(session, store.set_stock(session, product_id, stock))
