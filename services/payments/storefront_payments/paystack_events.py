"""Verified Paystack webhook events applied: the signature over the raw body, then each event applied once.

The event's de-duplication row is inserted first, in the same database transaction as its effect: a
concurrent copy of the same event waits on that row's unique key and then finds it taken, and a copy
arriving later finds it at once. Either way the copy changes nothing and is answered 200.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from . import charges, payouts, refunds, store
from .dependencies import db
from .models import PAYOUT_FAILED, PAYOUT_REVERSED, PAYOUT_SUCCESS

logger = logging.getLogger("storefront.payments.paystack_events")
SIGNATURE_HEADER = "x-paystack-signature"


def signature_is_valid(raw_body: bytes, signature: str | None, secret_key: str) -> bool:
    if not signature or not secret_key:
        return False
    expected = hmac.new(secret_key.encode(), raw_body, hashlib.sha512).hexdigest().encode()
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def _charge_success(data: dict[str, Any]) -> list[uuid.UUID]:
    payment = charges.find_by_reference(str(data.get("reference") or ""))
    if payment is None:
        logger.warning("charge.success for an unknown reference")
        return []
    return charges.apply_paystack_transaction(payment, {**data, "status": "success"})


def _transfer(outcome: str) -> Callable[[dict[str, Any]], list[uuid.UUID]]:
    def handle(data: dict[str, Any]) -> list[uuid.UUID]:
        payouts.settle_transfer(str(data.get("reference") or ""), outcome)
        return []

    return handle


HANDLERS: dict[str, Callable[[dict[str, Any]], list[uuid.UUID]]] = {
    "charge.success": _charge_success,
    "refund.processed": refunds.settle_refund_processed,
    "refund.failed": refunds.settle_refund_failed,
    "transfer.success": _transfer(PAYOUT_SUCCESS),
    "transfer.failed": _transfer(PAYOUT_FAILED),
    "transfer.reversed": _transfer(PAYOUT_REVERSED),
}


def event_key(event: str, data: dict[str, Any]) -> str | None:
    """What makes two deliveries the same event; None when the event carries nothing to key it by."""
    if event.startswith("refund."):
        identity = data.get("id")
    else:
        identity = data.get("reference")
    if isinstance(identity, int) and not isinstance(identity, bool):
        identity = str(identity)
    if not charges.is_reference(identity):
        return None
    return f"{event}:{identity}"


def handle_event(event: str, data: dict[str, Any]) -> list[uuid.UUID]:
    """Apply one verified event once and commit; returns the outbox messages to deliver."""
    handler = HANDLERS.get(event)  # only known names go on: they are what gets stored
    key = event_key(event, data)
    if handler is None or key is None:
        logger.info("webhook ignored", extra={"event": event[:64]})
        return []
    session = db.session
    if not store.record_webhook_event(session, key, event[:64]):
        logger.info("duplicate webhook ignored", extra={"event": event})
        return []
    outbox_ids = handler(data)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return []
    return outbox_ids
