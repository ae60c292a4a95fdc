"""The cart object: stored lines priced with the catalog's current names, prices and stock."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storefront_common.timeutil import isoformat

from .catalog import CatalogProduct
from .schemas import CartLineOut, CartOut


@dataclass
class Line:
    """A cart line as stored: which product, how many units."""

    product_id: uuid.UUID
    quantity: int


def cart_currency(lines: Sequence[Line], products: dict[uuid.UUID, CatalogProduct]) -> str | None:
    """The currency of the oldest line the catalog still knows; None while there is none."""
    for line in lines:
        product = products.get(line.product_id)
        if product is not None:
            return product.currency
    return None


def available_units(product: CatalogProduct) -> int:
    return product.stock if product.is_active else 0


def price_cart(lines: Sequence[Line], products: dict[uuid.UUID, CatalogProduct], updated_at: datetime | None,
               default_currency: str) -> CartOut:
    """Lines whose product the catalog no longer knows are left out: there is no name or price to show."""
    currency = cart_currency(lines, products) or default_currency
    items = [
        CartLineOut(product_id=line.product_id, name=product.name, unit_price=product.price,
                    currency=product.currency, quantity=line.quantity, line_total=product.price * line.quantity,
                    available=available_units(product))
        for line in lines
        if (product := products.get(line.product_id)) is not None
    ]
    # A line can only be in another currency if its product changed currency after it was added;
    # adding money across currencies would be wrong, so such a line is shown but not summed.
    subtotal = sum(item.line_total for item in items if item.currency == currency)
    return CartOut(items=items, subtotal=subtotal, currency=currency,
                   item_count=sum(item.quantity for item in items), updated_at=isoformat(updated_at))


def empty_cart(default_currency: str) -> CartOut:
    return CartOut(items=[], subtotal=0, currency=default_currency, item_count=0, updated_at=None)
