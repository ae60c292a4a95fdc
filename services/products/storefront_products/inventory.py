"""Stock adjustments by vendors: one conditional UPDATE each, so concurrent ones never lose an update."""
from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from storefront_common.errors import conflict

from .models import MAX_STOCK, Product


def _apply(session: Session, product_id: uuid.UUID, new_stock: ColumnElement[int] | int) -> int:
    # The bounds are checked by the database on the row it updates, never on a value read earlier.
    guard = new_stock if isinstance(new_stock, ColumnElement) else None
    statement = update(Product).where(Product.id == product_id)
    if guard is not None:
        statement = statement.where(guard >= 0, guard <= MAX_STOCK)
    stock = session.execute(statement.values(stock=new_stock).returning(Product.stock)
                            .execution_options(synchronize_session=False)).scalar_one_or_none()
    if stock is None:
        session.rollback()
        raise conflict(f"Stock must stay between 0 and {MAX_STOCK}.")
    session.commit()
    return int(stock)


def adjust_stock(session: Session, product_id: uuid.UUID, delta: int) -> int:
    return _apply(session, product_id, Product.stock + delta)


def set_stock(session: Session, product_id: uuid.UUID, stock: int) -> int:
    if not 0 <= stock <= MAX_STOCK:
        raise conflict(f"Stock must stay between 0 and {MAX_STOCK}.")
    return _apply(session, product_id, stock)
