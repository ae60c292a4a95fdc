"""Who may see and act on an order. Anyone who may not see it gets 404, never a hint it exists."""
from __future__ import annotations

import uuid

from storefront_common.auth import current_user_id, has_role
from storefront_common.errors import ProblemError, not_found

from . import store
from .models import Order


def is_buyer(order: Order) -> bool:
    return order.user_id == current_user_id()


def vendor_ids(order: Order) -> set[uuid.UUID]:
    return {item.vendor_id for item in order.items}


def is_vendor_of(order: Order) -> bool:
    return has_role("vendor") and current_user_id() in vendor_ids(order)


def visible_order(order_id: uuid.UUID) -> Order:
    order = store.order(order_id)
    if order is None or not (is_buyer(order) or has_role("admin") or is_vendor_of(order)):
        raise not_found("order")
    return order


def require_canceller(order: Order) -> None:
    if not (is_buyer(order) or has_role("admin")):
        raise ProblemError(403, "Only the buyer or an admin can cancel an order.")


def require_shipper(order: Order) -> None:
    """Admin, or the one vendor whose products make up the whole order.

    A mixed-vendor order ships as one parcel from the platform's point of view, so no single vendor
    may declare it shipped or delivered for the others: only an admin moves it.
    """
    if has_role("admin"):
        return
    if has_role("vendor") and vendor_ids(order) == {current_user_id()}:
        return
    raise ProblemError(403, "Only an admin, or the vendor of every item, can change this order's status.")
