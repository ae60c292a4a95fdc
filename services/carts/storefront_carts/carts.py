"""Reading and changing a user's cart: locking, expiry, and the rules a line must satisfy."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from storefront_common.errors import ProblemError, conflict, not_found
from storefront_common.timeutil import utcnow

from .catalog import CatalogProduct, catalog
from .extensions import db
from .models import MAX_LINE_QUANTITY, Cart, CartItem
from .pricing import cart_currency, empty_cart, price_cart
from .schemas import CartOut
from .settings import current_settings

Products = dict[uuid.UUID, CatalogProduct]
# Changes the locked lines in place; returns False when nothing changed (so nothing is written).
Change = Callable[[Cart, list[CartItem], Products], bool]


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=current_settings().cart_ttl_seconds)


def _is_expired(cart: Cart, now: datetime) -> bool:
    return cart.updated_at <= _cutoff(now)


def _lines(cart_id: uuid.UUID) -> list[CartItem]:
    query = select(CartItem).where(CartItem.cart_id == cart_id).order_by(CartItem.added_at, CartItem.product_id)
    return list(db.session.scalars(query))


def view_cart(user_id: uuid.UUID) -> CartOut:
    settings = current_settings()
    cart = db.session.scalar(select(Cart).where(Cart.user_id == user_id))
    if cart is None or _is_expired(cart, utcnow()):
        return empty_cart(settings.default_currency)
    lines = _lines(cart.id)
    # Closing keeps the loaded rows usable and gives the connection back while products answers.
    db.session.close()
    products = catalog().lookup({line.product_id for line in lines})
    return price_cart(lines, products, cart.updated_at, settings.default_currency)


def add_item(user_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> CartOut:
    def change(cart: Cart, lines: list[CartItem], products: Products) -> bool:
        product = _purchasable(products, product_id)
        _check_currency(lines, products, product)
        line = _find(lines, product_id)
        if line is None:
            _check_room(lines)
            _check_quantity(quantity, product)
            lines.append(_new_line(cart, product_id, quantity))
        else:
            _check_quantity(line.quantity + quantity, product)
            line.quantity += quantity
        return True

    return _change(user_id, change, product_id)


def set_quantity(user_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> CartOut:
    """PUT semantics: the line ends up with exactly `quantity` units, created if absent, removed at 0."""
    if quantity == 0:
        return _change(user_id, _removal(product_id, missing_ok=True))

    def change(cart: Cart, lines: list[CartItem], products: Products) -> bool:
        product = _purchasable(products, product_id)
        _check_currency(lines, products, product)
        _check_quantity(quantity, product)
        line = _find(lines, product_id)
        if line is None:
            _check_room(lines)
            lines.append(_new_line(cart, product_id, quantity))
            return True
        if line.quantity == quantity:
            return False
        line.quantity = quantity
        return True

    return _change(user_id, change, product_id)


def remove_item(user_id: uuid.UUID, product_id: uuid.UUID) -> CartOut:
    return _change(user_id, _removal(product_id, missing_ok=False))


def clear_cart(user_id: uuid.UUID) -> None:
    # Lines go with the cart (ON DELETE CASCADE); a later read sees a never-touched cart.
    db.session.execute(delete(Cart).where(Cart.user_id == user_id))
    db.session.commit()


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired carts in batches; returns how many went."""
    cutoff = _cutoff(now or utcnow())
    batch_size = current_settings().purge_batch_size
    purged = 0
    while True:
        batch = select(Cart.id).where(Cart.updated_at <= cutoff).limit(batch_size)
        # The outer condition is checked again on the locked row, so a cart changed meanwhile survives.
        result: Any = db.session.execute(delete(Cart).where(Cart.updated_at <= cutoff, Cart.id.in_(batch)))
        db.session.commit()
        purged += result.rowcount
        if result.rowcount < batch_size:
            return purged


def _change(user_id: uuid.UUID, change: Change, product_id: uuid.UUID | None = None) -> CartOut:
    """Look the products up, then lock the cart, apply `change`, and answer with the priced result."""
    now = utcnow()
    settings = current_settings()
    wanted = _stored_product_ids(user_id) | ({product_id} if product_id else set())
    db.session.close()  # hold no connection, let alone a lock, while products answers
    products = catalog().lookup(wanted)
    cart, fresh = _lock_cart(user_id, now)
    lines = [] if fresh else _lines(cart.id)
    late = {line.product_id for line in lines} - wanted
    if late:  # a concurrent request added lines after our lookup: price those too
        products = {**products, **catalog().lookup(late)}
    if not change(cart, lines, products):
        previous = None if fresh else cart.updated_at
        db.session.rollback()
        return price_cart(lines, products, previous, settings.default_currency)
    cart.updated_at = now
    result = price_cart(lines, products, now, settings.default_currency)
    db.session.commit()
    return result


def _stored_product_ids(user_id: uuid.UUID) -> set[uuid.UUID]:
    query = select(CartItem.product_id).join(Cart).where(Cart.user_id == user_id)
    return set(db.session.scalars(query))


def _lock_cart(user_id: uuid.UUID, now: datetime) -> tuple[Cart, bool]:
    """The user's cart, created if absent, locked until commit; `fresh` when it starts empty.

    The INSERT comes first so that SQLite takes its write lock at once; on PostgreSQL the row lock
    serializes every change to one cart, so concurrent adds cannot lose an update.
    """
    for _ in range(3):
        created = db.session.execute(
            _insert(Cart).values(id=uuid.uuid4(), user_id=user_id, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["user_id"]))
        cart = db.session.scalar(select(Cart).where(Cart.user_id == user_id).with_for_update()
                                 .execution_options(populate_existing=True))
        if cart is None:  # deleted (cleared or purged) between the two statements
            continue
        if getattr(created, "rowcount", 0) == 1:
            return cart, True
        if _is_expired(cart, now):
            db.session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
            return cart, True
        return cart, False
    raise ProblemError(409, "The cart changed concurrently; try again.")


def _insert(model: type[Any]) -> Any:
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _removal(product_id: uuid.UUID, *, missing_ok: bool) -> Change:
    def change(cart: Cart, lines: list[CartItem], products: Products) -> bool:
        line = _find(lines, product_id)
        if line is None:
            if missing_ok:
                return False
            raise not_found("cart item")
        lines.remove(line)
        db.session.delete(line)
        return True

    return change


def _new_line(cart: Cart, product_id: uuid.UUID, quantity: int) -> CartItem:
    line = CartItem(cart_id=cart.id, product_id=product_id, quantity=quantity, added_at=utcnow())
    db.session.add(line)
    return line


def _find(lines: list[CartItem], product_id: uuid.UUID) -> CartItem | None:
    return next((line for line in lines if line.product_id == product_id), None)


def _purchasable(products: Products, product_id: uuid.UUID) -> CatalogProduct:
    product = products.get(product_id)
    if product is None or not product.is_active:
        raise not_found("product")
    return product


def _check_currency(lines: list[CartItem], products: Products, product: CatalogProduct) -> None:
    currency = cart_currency(lines, products)
    if currency is not None and product.currency != currency:
        raise conflict(f"The cart is priced in {currency}; this product is priced in {product.currency}.",
                       cart_currency=currency)


def _check_room(lines: list[CartItem]) -> None:
    limit = current_settings().cart_max_lines
    if len(lines) >= limit:
        raise conflict(f"A cart holds at most {limit} different products.")


def _check_quantity(quantity: int, product: CatalogProduct) -> None:
    if quantity > MAX_LINE_QUANTITY:
        raise conflict(f"A cart line holds at most {MAX_LINE_QUANTITY} units.", requested=quantity)
    if quantity > product.stock:
        raise conflict("Not enough stock for that quantity.", requested=quantity, available=product.stock)
