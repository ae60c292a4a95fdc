"""Reading and changing a user's cart: locking, expiry, and the rules a line must satisfy."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection

from storefront_common.currency import require_shop_currency, shop_currency
from storefront_common.errors import conflict, not_found
from storefront_common.timeutil import utcnow

from . import store
from .dependencies import db, deps
from .models import MAX_LINE_QUANTITY
from .pricing import Line, empty_cart, price_cart
from .product_lookup import CatalogProduct
from .schemas import CartOut

Products = dict[uuid.UUID, CatalogProduct]
# Decides, from the locked lines, the product's new quantity (0 removes its line); None when nothing changes.
Change = Callable[[list[Line], Products], int | None]


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=deps().settings.cart_ttl_seconds)


def view_cart(user_id: uuid.UUID) -> CartOut:
    stored = _read(user_id, utcnow())
    if stored is None:
        return empty_cart(shop_currency())
    products = deps().product_lookup.lookup({line.product_id for line in stored.lines})
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
    store.delete_cart(user_id)  # a later read sees a never-touched cart


def take_out_order(user_id: uuid.UUID, order_id: uuid.UUID, bought: list[Line]) -> None:
    """Take a paid order's units out of its buyer's cart, once per order: a repeat changes nothing.

    Only what the order bought goes (a line left with 0 units or fewer is removed), so lines added since
    the checkout stay. An expired cart is left as it is: its lines are already gone for the buyer.
    """
    now = utcnow()
    with db.engine.connect() as connection:  # leaving without commit rolls back
        if not store.record_checkout(connection, order_id, user_id, now):
            return  # this order was taken out before
        cart = store.lock_existing_cart(connection, user_id)
        if cart is not None and cart.updated_at > _cutoff(now):
            lines = store.locked_lines(connection, cart.id)
            changed = False
            for line in bought:
                held = _find(lines, line.product_id)
                if held is not None:
                    store.write_line(connection, cart.id, line.product_id, max(0, held.quantity - line.quantity))
                    changed = True
            if changed:
                store.touch(connection, cart.id, now)
        connection.commit()


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired carts in batches; returns how many went."""
    cutoff = _cutoff(now or utcnow())
    batch_size = deps().settings.purge_batch_size
    purged = 0
    while True:
        deleted = store.delete_expired_batch(cutoff, batch_size)
        purged += deleted
        if deleted < batch_size:
            return purged


def _read(user_id: uuid.UUID, now: datetime) -> store.StoredCart | None:
    """The user's unexpired cart, unlocked; None when there is none (or it has expired)."""
    return store.read_cart(user_id, _cutoff(now))


def _change(user_id: uuid.UUID, product_id: uuid.UUID, change: Change, *, look_up_product: bool = True) -> CartOut:
    """Look the products up, then lock the cart, apply `change`, and answer with the priced result."""
    now = utcnow()
    currency = shop_currency()
    stored = _read(user_id, now)
    wanted = {line.product_id for line in stored.lines} if stored else set()
    if look_up_product:
        wanted.add(product_id)
    products = deps().product_lookup.lookup(wanted)  # no connection held, let alone a lock, while products answers
    if stored is None and look_up_product:
        first = _start_cart(user_id, product_id, change, products, now)
        if first is not None:
            return price_cart([first], products, now, currency)
    with db.engine.connect() as connection:  # leaving without commit rolls back
        cart_id, previous = _lock_cart(connection, user_id, now)
        lines = [] if previous is None else store.locked_lines(connection, cart_id)
        late = {line.product_id for line in lines} - wanted
        if late:  # a concurrent request added lines after our lookup: price those too
            products = {**products, **deps().product_lookup.lookup(late)}
        quantity = change(lines, products)
        if quantity is None:
            return price_cart(lines, products, previous, currency)
        store.write_line(connection, cart_id, product_id, quantity)
        if previous is not None:
            store.touch(connection, cart_id, now)
        connection.commit()
    _apply(lines, product_id, quantity)
    return price_cart(lines, products, now, currency)


def _start_cart(user_id: uuid.UUID, product_id: uuid.UUID, change: Change, products: Products,
                now: datetime) -> Line | None:
    """The first line of a user who had no cart, with the cart, in one statement. None when there is a cart
    after all, or the store cannot (SQLite): the locked path then decides.

    `change` sees no lines; what it refuses for an empty cart it would refuse for any cart.
    """
    quantity = change([], products)
    if not quantity or not store.start_cart(user_id, product_id, quantity, now):
        return None
    return Line(product_id, quantity)


def _lock_cart(connection: Connection, user_id: uuid.UUID, now: datetime) -> tuple[uuid.UUID, datetime | None]:
    """The user's cart, created if absent and locked until the transaction ends, and its last change.

    The last change is None when the cart starts empty (new, or expired and emptied here).
    """
    cart_id, updated_at = store.lock_cart(connection, user_id, now)
    if updated_at is not None and updated_at <= _cutoff(now):
        store.clear_lines(connection, cart_id, now)
        return cart_id, None
    return cart_id, updated_at


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
