"""The money held for an order, split between its vendors by their line totals."""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from storefront_common.client import DependencyFailed

from . import store
from .dependencies import deps, end_transaction
from .models import Order, OrderStatus

logger = logging.getLogger("storefront.orders.vendor_splits")


def splits(order: Order) -> list[dict[str, Any]]:
    """One split per vendor; the platform fee (PLATFORM_FEE_BPS) is taken by payments, not here."""
    by_vendor: dict[str, int] = defaultdict(int)
    for item in order.items:
        by_vendor[str(item.vendor_id)] += item.line_total
    return [{"vendor_id": vendor_id, "amount": amount} for vendor_id, amount in sorted(by_vendor.items())]


def release(order: Order) -> bool:
    """Pay the vendors of a delivered order; False leaves it to the periodic job to try again."""
    if order.status != OrderStatus.DELIVERED or order.escrow_released:
        return True
    order_id, shares = order.id, splits(order)
    end_transaction()
    try:
        deps().payments.release_escrow(order_id, shares)
    except DependencyFailed:
        logger.warning("escrow release deferred", extra={"order_id": str(order_id)})
        return False
    store.set_order_fields(order_id, escrow_released=True)
    return True
