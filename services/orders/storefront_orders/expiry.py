"""The periodic job: cancel orders left unpaid, and finish follow-ups a dependency outage left undone."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from storefront_common.timeutil import utcnow

from . import fulfilment, store, vendor_splits
from .dependencies import end_transaction
from .models import Order, OrderStatus
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
        ids = store.orders_due_for_expiry(cutoff, BATCH)
        end_transaction()
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
    order = store.order(order_id, reread=True)
    if order is not None:
        fulfilment.settle_cancelled(order)
    return 1


def finish_followups() -> tuple[int, int]:
    finished = deferred = 0
    order_ids = store.orders_with_unfinished_followups(BATCH)
    end_transaction()
    for order_id in order_ids:
        order = store.order(order_id, reread=True)
        if order is None:
            continue
        done = _finish(order)
        finished, deferred = (finished + 1, deferred) if done else (finished, deferred + 1)
    return finished, deferred


def _finish(order: Order) -> bool:
    if order.status == OrderStatus.CANCELLED:
        return fulfilment.settle_cancelled(order)
    done = fulfilment.finish_paid(order)
    store.reload(order)
    return vendor_splits.release(order) and done


def sweep(timeout_seconds: int) -> SweepReport:
    report = SweepReport(expired=expire_unpaid(timeout_seconds))
    report.finished, report.deferred = finish_followups()
    return report
