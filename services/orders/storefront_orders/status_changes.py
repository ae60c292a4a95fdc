"""Status changes asked for through the API and by payment events, with what each one sets off."""
from __future__ import annotations

import uuid

from storefront_common.errors import ProblemError, conflict

from . import fulfilment, store, vendor_splits
from .models import Order, OrderStatus, PaymentStatus
from .status_machine import can_move, move

MAX_RACES = 3


def change_status(order: Order, target: OrderStatus, **values: object) -> None:
    """Move from exactly the status we looked at, so the effects we run match the move that happened."""
    for _ in range(MAX_RACES):
        current = OrderStatus(order.status)
        if not can_move(current, target):
            break
        if move(order.id, target, only_from={current}, **values):
            store.reload(order)
            return
        store.reload(order)
    raise conflict(f"An order that is {order.status} cannot become {target.value}.",
                   current_status=order.status)


def cancel(order: Order) -> Order:
    change_status(order, OrderStatus.CANCELLED)
    fulfilment.settle_cancelled(order)
    store.reload(order)
    fulfilment.restock(order)
    store.reload(order)
    return order


def advance(order: Order, target: OrderStatus) -> Order:
    change_status(order, target)
    if target == OrderStatus.DELIVERED:
        vendor_splits.release(order)
    store.reload(order)
    return order


def payment_event(order_id: uuid.UUID, event: str, reference: str, amount: int, currency: str) -> Order:
    order = store.order(order_id)
    if order is None:
        raise ProblemError(404, "The order was not found.")
    if currency != order.currency or amount != order.total:
        raise conflict("The amount or currency does not match the order.",
                       expected={"amount": order.total, "currency": order.currency})
    if order.payment_reference is not None and order.payment_reference != reference:
        raise conflict("This order is paid under another reference.")
    if event == "payment.succeeded":
        _succeeded(order, reference)
    elif event == "payment.failed":
        _failed(order)
    else:
        _refunded(order)
    store.reload(order)
    return order


def _succeeded(order: Order, reference: str) -> None:
    if order.status == OrderStatus.PENDING:
        change_status(order, OrderStatus.PAID, payment_status=PaymentStatus.SUCCESS, payment_reference=reference)
    if order.status == OrderStatus.CANCELLED:
        # Payments refunds a payment we answer 409 to; the stock of a cancelled order is gone.
        raise conflict("The order was cancelled before it was paid.", current_status=order.status)
    fulfilment.finish_paid(order)


def _failed(order: Order) -> None:
    if order.status == OrderStatus.PENDING:
        change_status(order, OrderStatus.CANCELLED, payment_status=PaymentStatus.FAILED)
        fulfilment.settle_cancelled(order)
    elif order.status != OrderStatus.CANCELLED:
        raise conflict("The order was already paid.", current_status=order.status)


def _refunded(order: Order) -> None:
    if order.status == OrderStatus.PAID:
        # Refunded at payments' end (e.g. by an operator): the order cannot stand any longer.
        change_status(order, OrderStatus.CANCELLED)
    if order.status != OrderStatus.CANCELLED:
        raise conflict("Only a cancelled order can be refunded.", current_status=order.status)
    store.set_order_fields(order.id, payment_status=PaymentStatus.REFUNDED, refund_requested=True)
