"""Reading and changing a user's cart: locking, expiry, and the rules a line must satisfy."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Executable, Row, Table, bindparam, delete, select, text, update

from storefront_common.currency import require_shop_currency, shop_currency
from storefront_common.db import autocommit, insert_on_conflict
from storefront_common.errors import conflict, not_found
from storefront_common.timeutil import utcnow

from .catalog import CatalogProduct
from .dependencies import db, deps
from .models import MAX_LINE_QUANTITY, Cart, CartCheckout, CartItem
from .pricing import Line, empty_cart, price_cart
from .schemas import CartOut

Products = dict[uuid.UUID, CatalogProduct]
# Decides, from the locked lines, the product's new quantity (0 removes its line); None when nothing changes.
Change = Callable[[list[Line], Products], int | None]
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


@dataclass
class _Stored:
    updated_at: datetime
    lines: list[Line]


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=deps().settings.cart_ttl_seconds)


def view_cart(user_id: uuid.UUID) -> CartOut:
    stored = _read(user_id, utcnow())
    if stored is None:
        return empty_cart(shop_currency())
    products = deps().catalog.lookup({line.product_id for line in stored.lines})
    return price_cart(stored.lines, products, stored.updated_at, shop_currency())


def stored_lines(user_id: uuid.UUID) -> list[Line]:
    """The unexpired cart's lines as stored, without asking products (checkout reserves them there)."""
    stored = _read(user_id, utcnow())
    return stored.lines if stored is not None else []


def add_item(user_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> CartOut:
    def change(lines: list[Line], products: Products) -> int:
        product = _purchasable(products, product_id)
        line = _find(lines, product_id)
        if line is None:
            _check_room(lines)
        total = quantity + (line.quantity if line else 0)
        _check_quantity(total, product)
        return total

    return _change(user_id, product_id, change)


def set_quantity(user_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> CartOut:
    """PUT semantics: the line ends up with exactly `quantity` units, created if absent, removed at 0."""
    if quantity == 0:
        return _change(user_id, product_id, _removal(product_id, missing_ok=True), look_up_product=False)

    def change(lines: list[Line], products: Products) -> int | None:
        product = _purchasable(products, product_id)
        _check_quantity(quantity, product)
        line = _find(lines, product_id)
        if line is None:
            _check_room(lines)
            return quantity
        return None if line.quantity == quantity else quantity

    return _change(user_id, product_id, change)


def remove_item(user_id: uuid.UUID, product_id: uuid.UUID) -> CartOut:
    return _change(user_id, product_id, _removal(product_id, missing_ok=False), look_up_product=False)


def clear_cart(user_id: uuid.UUID) -> None:
    # Lines go with the cart (ON DELETE CASCADE); a later read sees a never-touched cart.
    _standalone(DELETE_CART, {"user_id": user_id})


def take_out_order(user_id: uuid.UUID, order_id: uuid.UUID, bought: list[Line]) -> None:
    """Take a paid order's units out of its buyer's cart, once per order: a repeat changes nothing.

    Only what the order bought goes (a line left with 0 units or fewer is removed), so lines added since
    the checkout stay. An expired cart is left as it is: its lines are already gone for the buyer.
    """
    now = utcnow()
    with db.engine.connect() as connection:  # leaving without commit rolls back
        if not connection.execute(RECORD_CHECKOUT, {"order_id": order_id, "user_id": user_id,
                                                    "created_at": now}).all():
            return  # this order was taken out before
        cart = connection.execute(LOCK_EXISTING_CART, {"user_id": user_id}).one_or_none()
        if cart is not None and cart.updated_at > _cutoff(now):
            lines = _locked_lines(connection, cart.id)
            changed = False
            for line in bought:
                held = _find(lines, line.product_id)
                if held is not None:
                    _write_line(connection, cart.id, line.product_id, max(0, held.quantity - line.quantity))
                    changed = True
            if changed:
                _touch(connection, cart.id, now)
        connection.commit()


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired carts in batches; returns how many went."""
    cutoff = _cutoff(now or utcnow())
    batch_size = deps().settings.purge_batch_size
    purged = 0
    while True:
        batch = select(Cart.id).where(Cart.updated_at <= cutoff).limit(batch_size)
        # The outer condition is checked again on the locked row, so a cart changed meanwhile survives.
        result: Any = db.session.execute(delete(Cart).where(Cart.updated_at <= cutoff, Cart.id.in_(batch)))
        db.session.commit()
        purged += result.rowcount
        if result.rowcount < batch_size:
            return purged


def _standalone(statement: Executable, parameters: dict[str, Any]) -> list[Row[Any]]:
    """Run one statement in a transaction of its own."""
    with db.engine.connect() as connection, autocommit(connection):
        result = connection.execute(statement, parameters)
        rows = result.all() if result.returns_rows else []
        connection.commit()  # SQLite's transaction; under autocommit there is nothing to send
        return rows


def _read(user_id: uuid.UUID, now: datetime) -> _Stored | None:
    """The user's unexpired cart, unlocked; None when there is none (or it has expired)."""
    rows = _standalone(READ_CART, {"user_id": user_id, "cutoff": _cutoff(now)})
    if not rows:
        return None
    return _Stored(rows[0].updated_at,
                   [Line(row.product_id, row.quantity) for row in rows if row.product_id is not None])


def _change(user_id: uuid.UUID, product_id: uuid.UUID, change: Change, *, look_up_product: bool = True) -> CartOut:
    """Look the products up, then lock the cart, apply `change`, and answer with the priced result."""
    now = utcnow()
    currency = shop_currency()
    stored = _read(user_id, now)
    wanted = {line.product_id for line in stored.lines} if stored else set()
    if look_up_product:
        wanted.add(product_id)
    products = deps().catalog.lookup(wanted)  # no connection held, let alone a lock, while products answers
    if stored is None and look_up_product:
        first = _start_cart(user_id, product_id, change, products, now)
        if first is not None:
            return price_cart([first], products, now, currency)
    with db.engine.connect() as connection:  # leaving without commit rolls back
        cart_id, previous = _lock_cart(connection, user_id, now)
        lines = [] if previous is None else _locked_lines(connection, cart_id)
        late = {line.product_id for line in lines} - wanted
        if late:  # a concurrent request added lines after our lookup: price those too
            products = {**products, **deps().catalog.lookup(late)}
        quantity = change(lines, products)
        if quantity is None:
            return price_cart(lines, products, previous, currency)
        _write_line(connection, cart_id, product_id, quantity)
        if previous is not None:
            _touch(connection, cart_id, now)
        connection.commit()
    _apply(lines, product_id, quantity)
    return price_cart(lines, products, now, currency)


def _start_cart(user_id: uuid.UUID, product_id: uuid.UUID, change: Change, products: Products,
                now: datetime) -> Line | None:
    """The first line of a user who had no cart: the cart and the line in one round trip instead of BEGIN,
    two INSERTs and COMMIT. None when there is a cart after all, or on SQLite: the locked path then decides.

    `change` sees no lines; what it refuses for an empty cart it would refuse for any cart.
    """
    if db.engine.dialect.name != "postgresql":
        return None
    quantity = change([], products)
    if not quantity:
        return None
    started = _standalone(START_CART, {"cart_id": uuid.uuid4(), "user_id": user_id, "now": now,
                                       "product_id": product_id, "quantity": quantity})
    return Line(product_id, quantity) if started else None


def _lock_cart(connection: Connection, user_id: uuid.UUID, now: datetime) -> tuple[uuid.UUID, datetime | None]:
    """The user's cart, created if absent and locked until the transaction ends, and its last change.

    The last change is None when the cart starts empty (new, or expired and emptied here); its row then
    already says updated_at = now. The upsert updates an existing row to itself, so one statement inserts
    or locks: on PostgreSQL the row lock serializes every change to one cart (a row deleted meanwhile is
    inserted anew), on SQLite the INSERT takes the database write lock.
    """
    new_id = uuid.uuid4()
    cart_id, updated_at = connection.execute(
        LOCK_CART, {"id": new_id, "user_id": user_id, "created_at": now, "updated_at": now}).one()
    if cart_id == new_id:
        return cart_id, None
    if updated_at <= _cutoff(now):
        connection.execute(DELETE_LINES, {"cart_id": cart_id})
        _touch(connection, cart_id, now)
        return cart_id, None
    return cart_id, updated_at


def _locked_lines(connection: Connection, cart_id: uuid.UUID) -> list[Line]:
    rows = connection.execute(LOCKED_LINES, {"cart_id": cart_id})
    return [Line(product_id, quantity) for product_id, quantity in rows]


def _write_line(connection: Connection, cart_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> None:
    if quantity == 0:
        connection.execute(DELETE_LINE, {"cart_id": cart_id, "product_id": product_id})
        return
    connection.execute(WRITE_LINE, {"cart_id": cart_id, "product_id": product_id, "quantity": quantity,
                                    "added_at": utcnow()})


def _touch(connection: Connection, cart_id: uuid.UUID, now: datetime) -> None:
    connection.execute(TOUCH, {"cart_id": cart_id, "now": now})


def _apply(lines: list[Line], product_id: uuid.UUID, quantity: int) -> None:
    """Bring the lines in memory to what was just written, for the answer."""
    line = _find(lines, product_id)
    if line is None:
        lines.append(Line(product_id, quantity))
    elif quantity == 0:
        lines.remove(line)
    else:
        line.quantity = quantity


def _removal(product_id: uuid.UUID, *, missing_ok: bool) -> Change:
    def change(lines: list[Line], products: Products) -> int | None:
        if _find(lines, product_id) is not None:
            return 0
        if missing_ok:
            return None
        raise not_found("cart item")

    return change


def _find(lines: list[Line], product_id: uuid.UUID) -> Line | None:
    return next((line for line in lines if line.product_id == product_id), None)


def _purchasable(products: Products, product_id: uuid.UUID) -> CatalogProduct:
    """The product to add: active, and in the shop's currency (any other could never be checked out)."""
    product = products.get(product_id)
    if product is None or not product.is_active:
        raise not_found("product")
    require_shop_currency([(product.name, product.currency)])
    return product


def _check_room(lines: list[Line]) -> None:
    limit = deps().settings.cart_max_lines
    if len(lines) >= limit:
        raise conflict(f"A cart holds at most {limit} different products.")


def _check_quantity(quantity: int, product: CatalogProduct) -> None:
    if quantity > MAX_LINE_QUANTITY:
        raise conflict(f"A cart line holds at most {MAX_LINE_QUANTITY} units.", requested=quantity)
    if quantity > product.stock:
        raise conflict("Not enough stock for that quantity.", requested=quantity, available=product.stock)
