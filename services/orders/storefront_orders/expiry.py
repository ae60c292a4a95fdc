"""The periodic job: cancel orders left unpaid, and finish follow-ups a dependency outage left undone."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from storefront_common.timeutil import utcnow

from . import fulfilment, vendor_splits
from .dependencies import db
from .models import Order, OrderStatus, PaymentStatus, ReservationState
from .status_machine import move

logger = logging.getLogger("storefront.orders.expiry")
BATCH = 500


@dataclass
class SweepReport:
    expired: int = 0
    finished: int = 0
    deferred: int = 0


def expire_unpaid(timeout_seconds: int, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(seconds=timeout_seconds)
    expired = 0
    while True:
        ids = db.session.scalars(select(Order.id).where(Order.status == OrderStatus.PENDING,
                                                        Order.created_at < cutoff).limit(BATCH)).all()
        db.session.commit()
        for order_id in ids:
            expired += _expire(order_id)
        if len(ids) < BATCH:
            break
    if expired:
        logger.info("unpaid orders cancelled", extra={"count": expired})
    return expired


def _expire(order_id: uuid.UUID) -> int:
    # Conditional: a payment confirmed since the SELECT wins, and the order stays paid.
    if not move(order_id, OrderStatus.CANCELLED, only_from={OrderStatus.PENDING}):
        return 0
    order = db.session.get(Order, order_id, populate_existing=True)
    if order is not None:
        fulfilment.settle_cancelled(order)
    return 1


def _unfinished() -> list[uuid.UUID]:
    """The orders fulfilment.finish_paid / settle_cancelled / escrow.release would still act on."""
    paid_like = [status.value for status in fulfilment.PAID_STATUSES]
    condition = or_(
        and_(Order.status.in_(paid_like),
             or_(Order.reservation_state == ReservationState.HELD, Order.cart_cleared.is_(False))),
        and_(Order.status == OrderStatus.CANCELLED,
             or_(Order.reservation_state == ReservationState.HELD,
                 and_(Order.payment_requested.is_(True), Order.refund_requested.is_(False),
                      or_(Order.payment_status == PaymentStatus.SUCCESS,
                          and_(Order.payment_method == "wallet",
                               Order.payment_status == PaymentStatus.PENDING))))),
        and_(Order.status == OrderStatus.DELIVERED, Order.escrow_released.is_(False)),
    )
    ids = db.session.scalars(select(Order.id).where(condition).limit(BATCH)).all()
    db.session.commit()
    return list(ids)


def finish_followups() -> tuple[int, int]:
    finished = deferred = 0
    for order_id in _unfinished():
        order = db.session.get(Order, order_id, populate_existing=True)
        if order is None:
            continue
        done = _finish(order)
        finished, deferred = (finished + 1, deferred) if done else (finished, deferred + 1)
    return finished, deferred


def _finish(order: Order) -> bool:
    if order.status == OrderStatus.CANCELLED:
        return fulfilment.settle_cancelled(order)
    done = fulfilment.finish_paid(order)
    db.session.refresh(order)
    return vendor_splits.release(order) and done


def sweep(timeout_seconds: int) -> SweepReport:
    report = SweepReport(expired=expire_unpaid(timeout_seconds))
    report.finished, report.deferred = finish_followups()
    return report
