"""Payment events for the orders service, through a transactional outbox.

`enqueue` writes the message in the same database transaction as the ledger effect, so the effect and the
promise to tell the orders service commit together. `deliver` runs right after commit and again from the
periodic job until the orders service has accepted the message, so an orders outage loses nothing.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

from sqlalchemy.orm import Session

from storefront_common.client import DependencyUnavailable, ServiceClient
from storefront_common.timeutil import utcnow

from . import store
from .models import OutboxMessage, Payment

logger = logging.getLogger("storefront.payments.outbox")
SUCCEEDED, FAILED, REFUNDED = "payment.succeeded", "payment.failed", "payment.refunded"
LEASE = timedelta(seconds=30)

# Called when the orders service refuses a success (409: the order was cancelled meanwhile).
RejectedHandler = Callable[[uuid.UUID], None]


def enqueue(session: Session, payment: Payment, event: str) -> OutboxMessage | None:
    """Queue `event` for the payment's order, once (topups have no order and tell nobody)."""
    if payment.order_id is None:
        return None
    return store.queue_message(session, f"{event}:{payment.reference}", payment.order_id, {
        "event": event, "reference": payment.reference, "amount": payment.amount, "currency": payment.currency})


def undelivered_ids(session: Session, limit: int = 100) -> list[uuid.UUID]:
    return store.undelivered_message_ids(session, limit)


def deliver(session: Session, orders: ServiceClient, ids: Iterable[uuid.UUID],
            on_rejected_success: RejectedHandler) -> int:
    """Try to deliver each message once; returns how many the orders service accepted. Never raises."""
    delivered = 0
    for message_id in ids:
        try:
            delivered += _deliver_one(session, orders, message_id, on_rejected_success)
        except Exception:  # one bad message must not stop the others; it is retried by the job
            session.rollback()
            logger.exception("outbox delivery failed", extra={"outbox_id": str(message_id)})
    return delivered


def _claim(session: Session, message_id: uuid.UUID) -> OutboxMessage | None:
    """Lease the message so two workers do not send it at the same moment (a repeat would be harmless)."""
    now = utcnow()
    claimed = store.lease_message(session, message_id, now, now + LEASE)
    session.commit()
    if not claimed:
        return None
    return store.message(session, message_id)


def _deliver_one(session: Session, orders: ServiceClient, message_id: uuid.UUID,
                 on_rejected_success: RejectedHandler) -> int:
    message = _claim(session, message_id)
    if message is None:
        return 0
    try:
        response = orders.post(f"/internal/orders/{message.order_id}/payment-events", json=message.payload,
                               idempotent=True)
    except DependencyUnavailable:
        _release(session, message, "orders service unavailable")
        return 0
    if response.status_code == 409 and message.payload["event"] == SUCCEEDED:
        # The order was cancelled (e.g. paid after PAYMENT_TIMEOUT): the buyer gets the money back.
        logger.warning("orders refused a paid order; refunding", extra={"order_id": str(message.order_id)})
        on_rejected_success(message.order_id)
        _finish(session, message, "refused by orders (409); refunded")
        return 1
    if 200 <= response.status_code < 300:
        _finish(session, message, None)
        return 1
    if 400 <= response.status_code < 500 and response.status_code not in (401, 408, 429):
        # The orders service will never accept it: keep the record, stop retrying, make it visible in logs.
        logger.error("orders rejected a payment event", extra={"order_id": str(message.order_id),
                                                                "status": response.status_code})
        _finish(session, message, f"rejected by orders ({response.status_code})")
        return 0
    _release(session, message, f"orders answered {response.status_code}")
    return 0


def _finish(session: Session, message: OutboxMessage, note: str | None) -> None:
    message.delivered_at = utcnow()
    message.locked_until = None
    message.last_error = note
    session.commit()


def _release(session: Session, message: OutboxMessage, error: str) -> None:
    message.locked_until = None
    message.last_error = error
    session.commit()
