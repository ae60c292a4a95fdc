"""Every SQL statement of the carts service: carts, their lines and the paid orders taken out of them.

Functions that take a `connection` run inside the caller's transaction; the others run in one of their own.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Executable, Row, Table, bindparam, delete, select, text, update

from storefront_common.db import autocommit, insert_on_conflict
from storefront_common.timeutil import utcnow

from .dependencies import db
from .models import Cart, CartCheckout, CartItem
from .pricing import Line

# The requests run Core statements on the tables: they build no ORM objects, so the ORM would only add work.
CARTS: Table = Cart.__table__
ITEMS: Table = CartItem.__table__
CHECKOUTS: Table = CartCheckout.__table__

# Built once: building a statement and deriving its cache key costs about 0.1 ms, on every request otherwise.
LOCK_CART = insert_on_conflict(CARTS, conflict=("user_id",), update="user_id", returning=("id", "updated_at"))
WRITE_LINE = insert_on_conflict(ITEMS, conflict=("cart_id", "product_id"), update="quantity")
# The unexpired cart's lines, oldest first; a cart without lines joins to one row whose line columns are NULL.
READ_CART = (select(CARTS.c.updated_at, ITEMS.c.product_id, ITEMS.c.quantity)
             .select_from(CARTS.outerjoin(ITEMS))
             .where(CARTS.c.user_id == bindparam("user_id"), CARTS.c.updated_at > bindparam("cutoff"))
             .order_by(ITEMS.c.added_at, ITEMS.c.product_id))
LOCKED_LINES = (select(ITEMS.c.product_id, ITEMS.c.quantity).where(ITEMS.c.cart_id == bindparam("cart_id"))
                .order_by(ITEMS.c.added_at, ITEMS.c.product_id))
RECORD_CHECKOUT = insert_on_conflict(CHECKOUTS, conflict=("order_id",), returning=("order_id",))
# FOR UPDATE on PostgreSQL; SQLite has none, but there the INSERT before it already holds the write lock.
LOCK_EXISTING_CART = (select(CARTS.c.id, CARTS.c.updated_at).where(CARTS.c.user_id == bindparam("user_id"))
                      .with_for_update())
DELETE_CART = delete(CARTS).where(CARTS.c.user_id == bindparam("user_id"))
DELETE_LINES = delete(ITEMS).where(ITEMS.c.cart_id == bindparam("cart_id"))
DELETE_LINE = delete(ITEMS).where(ITEMS.c.cart_id == bindparam("cart_id"),
                                  ITEMS.c.product_id == bindparam("product_id"))
TOUCH = update(CARTS).where(CARTS.c.id == bindparam("cart_id")).values(updated_at=bindparam("now"))
# PostgreSQL only (SQLite has no INSERT inside WITH): a new cart and its first line in one statement, so in
# autocommit. Nothing is written when the user has a cart after all (expired, or made meanwhile).
START_CART = text(
    f"WITH cart AS (INSERT INTO {CARTS.name} (id, user_id, created_at, updated_at)"
    " VALUES (:cart_id, :user_id, :now, :now) ON CONFLICT (user_id) DO NOTHING RETURNING id)"
    f" INSERT INTO {ITEMS.name} (cart_id, product_id, quantity, added_at)"
    " SELECT cart.id, :product_id, :quantity, :now FROM cart RETURNING cart_id"
).bindparams(bindparam("cart_id", type_=CARTS.c.id.type), bindparam("user_id", type_=CARTS.c.user_id.type),
             bindparam("now", type_=CARTS.c.updated_at.type), bindparam("product_id", type_=ITEMS.c.product_id.type),
             bindparam("quantity", type_=ITEMS.c.quantity.type))


class LockedCart(NamedTuple):
    id: uuid.UUID
    updated_at: datetime


@dataclass
class StoredCart:
    updated_at: datetime
    lines: list[Line]


def read_cart(user_id: uuid.UUID, cutoff: datetime) -> StoredCart | None:
    """The user's cart if changed after `cutoff`, unlocked; None when there is none."""
    rows = _standalone(READ_CART, {"user_id": user_id, "cutoff": cutoff})
    if not rows:
        return None
    return StoredCart(rows[0].updated_at,
                      [Line(row.product_id, row.quantity) for row in rows if row.product_id is not None])


def delete_cart(user_id: uuid.UUID) -> None:
    # Lines go with the cart (ON DELETE CASCADE).
    _standalone(DELETE_CART, {"user_id": user_id})


def start_cart(user_id: uuid.UUID, product_id: uuid.UUID, quantity: int, now: datetime) -> bool:
    """A new cart holding one line, in one round trip instead of BEGIN, two INSERTs and COMMIT.

    False, with nothing written, when the user has a cart after all, or on SQLite (no INSERT inside WITH).
    """
    if db.engine.dialect.name != "postgresql":
        return False
    return bool(_standalone(START_CART, {"cart_id": uuid.uuid4(), "user_id": user_id, "now": now,
                                         "product_id": product_id, "quantity": quantity}))


def lock_cart(connection: Connection, user_id: uuid.UUID, now: datetime) -> tuple[uuid.UUID, datetime | None]:
    """The user's cart, created if absent and locked until the transaction ends: its id and its last change,
    None when it was created just now (its row then says updated_at = now).

    The upsert updates an existing row to itself, so one statement inserts or locks: on PostgreSQL the row lock
    serializes every change to one cart (a row deleted meanwhile is inserted anew), on SQLite the INSERT takes
    the database write lock.
    """
    new_id = uuid.uuid4()
    cart_id, updated_at = connection.execute(
        LOCK_CART, {"id": new_id, "user_id": user_id, "created_at": now, "updated_at": now}).one()
    return (cart_id, None) if cart_id == new_id else (cart_id, updated_at)


def lock_existing_cart(connection: Connection, user_id: uuid.UUID) -> LockedCart | None:
    """The user's cart, locked until the transaction ends; None when there is none."""
    cart = connection.execute(LOCK_EXISTING_CART, {"user_id": user_id}).one_or_none()
    return None if cart is None else LockedCart(*cart)


def clear_lines(connection: Connection, cart_id: uuid.UUID, now: datetime) -> None:
    """The cart keeps no line, and its last change is `now`."""
    connection.execute(DELETE_LINES, {"cart_id": cart_id})
    touch(connection, cart_id, now)


def locked_lines(connection: Connection, cart_id: uuid.UUID) -> list[Line]:
    rows = connection.execute(LOCKED_LINES, {"cart_id": cart_id})
    return [Line(product_id, quantity) for product_id, quantity in rows]


def write_line(connection: Connection, cart_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> None:
    """The product's line with `quantity` units, created if absent; 0 removes it."""
    if quantity == 0:
        connection.execute(DELETE_LINE, {"cart_id": cart_id, "product_id": product_id})
        return
    connection.execute(WRITE_LINE, {"cart_id": cart_id, "product_id": product_id, "quantity": quantity,
                                    "added_at": utcnow()})


def touch(connection: Connection, cart_id: uuid.UUID, now: datetime) -> None:
    """The cart's last change is `now`."""
    connection.execute(TOUCH, {"cart_id": cart_id, "now": now})


def record_checkout(connection: Connection, order_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> bool:
    """Record that the order is taken out of its buyer's cart; False when it was recorded before."""
    return bool(connection.execute(RECORD_CHECKOUT, {"order_id": order_id, "user_id": user_id,
                                                     "created_at": now}).all())


def delete_expired_batch(cutoff: datetime, batch_size: int) -> int:
    """Delete, and commit, up to `batch_size` carts last changed at or before `cutoff`; returns how many went."""
    batch = select(Cart.id).where(Cart.updated_at <= cutoff).limit(batch_size)
    # The outer condition is checked again on the locked row, so a cart changed meanwhile survives.
    result: Any = db.session.execute(delete(Cart).where(Cart.updated_at <= cutoff, Cart.id.in_(batch)))
    db.session.commit()
    return int(result.rowcount)


def _standalone(statement: Executable, parameters: dict[str, Any]) -> list[Row[Any]]:
    """Run one statement in a transaction of its own."""
    with db.engine.connect() as connection, autocommit(connection):
        result = connection.execute(statement, parameters)
        rows = result.all() if result.returns_rows else []
        connection.commit()  # SQLite's transaction; under autocommit there is nothing to send
        return rows
