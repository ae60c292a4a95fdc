"""What follows a status change: keep or return the stock, take the bought units out of the cart, refund.

Each step is idempotent downstream and recorded here once done, so when a dependency is down the
step is simply left undone and `flask expire-unpaid-orders` (the periodic job) finishes it later.
"""
from __future__ import annotations

import logging
from typing import Any

from storefront_common.client import DependencyFailed

from . import store
from .dependencies import deps, end_transaction
from .models import Order, OrderStatus, PaymentStatus, ReservationState

logger = logging.getLogger("storefront.orders.fulfilment")


def finish_paid(order: Order) -> bool:
    """Commit the reservation of a paid order and take what it bought out of the cart.

    Only the order's own units leave the cart (not the whole cart): when this step is deferred, the
    buyer may have filled the cart for a next order by the time the job finishes it.
    """
    order_id, user_id, reservation_id = order.id, order.user_id, order.reservation_id
    commit_due = order.reservation_state == ReservationState.HELD and reservation_id is not None
    clear_due = not order.cart_cleared
    bought = [(item.product_id, item.quantity) for item in order.items] if clear_due else []
    end_transaction()
    done: dict[str, Any] = {}  # recorded in one UPDATE, whatever got done before a dependency failed
    try:
        if commit_due and reservation_id is not None:
            kept = deps().products.commit(reservation_id)
            done["reservation_state"] = ReservationState.COMMITTED if kept else ReservationState.LOST
        if clear_due:
            deps().carts.take_out(user_id, order_id, bought)
            done["cart_cleared"] = True
    except DependencyFailed:
        logger.warning("paid order follow-up deferred", extra={"order_id": str(order_id)})
        return False
    finally:
        if done:
            store.set_order_fields(order_id, **done)
    return True


def release_reservation(order: Order) -> bool:
    order_id, reservation_id = order.id, order.reservation_id
    if order.reservation_state != ReservationState.HELD or reservation_id is None:
        return True
    end_transaction()
    try:
        deps().products.release(reservation_id)
    except DependencyFailed:
        logger.warning("reservation release deferred", extra={"order_id": str(order_id)})
        return False
    # Refused means products no longer holds it (expired): the units are back on the shelf either way.
    store.set_order_fields(order_id, reservation_state=ReservationState.RELEASED)
    return True


def restock(order: Order) -> bool:
    """The units of a paid order cancelled before shipping are still on the shelf: offer them back."""
    order_id, reservation_id = order.id, order.reservation_id
    if order.reservation_state != ReservationState.COMMITTED or reservation_id is None:
        return True
    end_transaction()
    try:
        returned = deps().products.take_back(reservation_id)
    except DependencyFailed:
        logger.warning("restock skipped: products unavailable", extra={"order_id": str(order_id)})
        return True  # best effort: the sale stands, as it would if products refused
    if returned:
        store.set_order_fields(order_id, reservation_state=ReservationState.RELEASED)
    else:
        logger.info("products keeps the units of a cancelled paid order", extra={"order_id": str(order_id)})
    return True


def needs_refund(order: Order) -> bool:
    if order.status != OrderStatus.CANCELLED or order.refund_requested or not order.payment_requested:
        return False
    if order.payment_status == PaymentStatus.SUCCESS:
        return True
    # A wallet debit whose answer was lost may have happened: ask payments, it knows.
    return order.payment_method == "wallet" and order.payment_status == PaymentStatus.PENDING


def refund(order: Order) -> bool:
    if not needs_refund(order):
        return True
    order_id = order.id
    end_transaction()
    try:
        status = deps().payments.refund(order_id)
    except DependencyFailed:
        logger.warning("refund deferred", extra={"order_id": str(order_id)})
        return False
    if status is None:
        store.set_order_fields(order_id, refund_requested=True)
    elif status == "refunded":
        # A wallet refund is done at once; a Paystack one is on its way until payment.refunded arrives.
        store.set_order_fields(order_id, refund_requested=True, payment_status=PaymentStatus.REFUNDED)
    else:
        store.set_order_fields(order_id, refund_requested=True)
        # payment.refunded may have overtaken this answer; it has the last word.
        store.set_refund_pending_unless_refunded(order_id)
    return True


def settle_cancelled(order: Order) -> bool:
    """Return the stock of a cancelled order and its money if it was taken."""
    if order.status != OrderStatus.CANCELLED:
        return True
    released = release_reservation(order)
    store.reload(order)
    return refund(order) and released
