"""The cart object: stored lines priced with the catalog's current names, prices and stock."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storefront_common.timeutil import isoformat

from .product_lookup import CatalogProduct
from .schemas import CartLineOut, CartOut


@dataclass
class Line:
    """A cart line as stored: which product, how many units."""

    product_id: uuid.UUID
    quantity: int


def available_units(product: CatalogProduct) -> int:
    return product.stock if product.is_active else 0


def price_cart(lines: Sequence[Line], products: dict[uuid.UUID, CatalogProduct], updated_at: datetime | None,
               currency: str) -> CartOut:
    """The cart in the shop's `currency`. Lines whose product the catalog no longer knows are left out: there is
    no name or price to show."""
    items = [
        CartLineOut(product_id=line.product_id, name=product.name, unit_price=product.price,
                    currency=product.currency, quantity=line.quantity, line_total=product.price * line.quantity,
                    available=available_units(product))
        for line in lines
        if (product := products.get(line.product_id)) is not None
    ]
    # A line can only be in another currency if its product was priced in one before the shop's currency rule
    # (or STOREFRONT_CURRENCY changed); adding money across currencies would be wrong, so such a line is shown
    # but not summed, and checkout refuses it.
    subtotal = sum(item.line_total for item in items if item.currency == currency)
    return CartOut(items=items, subtotal=subtotal, currency=currency,
                   item_count=sum(item.quantity for item in items), updated_at=isoformat(updated_at))


def empty_cart(currency: str) -> CartOut:
    return CartOut(items=[], subtotal=0, currency=currency, item_count=0, updated_at=None)
