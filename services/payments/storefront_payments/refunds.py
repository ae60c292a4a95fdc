"""Giving an order's money back: a wallet payment at once, a Paystack payment through Paystack's refund."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from storefront_common.errors import conflict, not_found

from . import ledger, outbox, store
from .charges import PAYSTACK_METHOD, find_by_order, find_by_reference
from .dependencies import db, deps
from .models import ESCROW, PAYSTACK_CLEARING, REFUND_PENDING, REFUNDED, SUCCESS, WALLET, Payment
from .paystack import PaystackError

logger = logging.getLogger("storefront.payments.refunds")


def refund_order(order_id: uuid.UUID) -> Payment:
    """Refund the order's payment in full. Idempotent: a repeat answers with the refund already under way."""
    payment = find_by_order(order_id)
    if payment is None:
        raise not_found("payment for this order")
    if payment.status == REFUNDED:
        return payment
    _check_refundable(payment)
    if payment.method == PAYSTACK_METHOD:
        return _refund_through_paystack(payment)
    return _refund_to_wallet(payment)


def _check_refundable(payment: Payment) -> None:
    if payment.status != SUCCESS:
        raise conflict(f"The payment is {payment.status}; there is nothing to refund.")
    if payment.released_at is not None:
        raise conflict("The escrow was already released to the vendors.")


def _refund_to_wallet(payment: Payment) -> Payment:
    if not store.claim_refund(db.session, payment, status=REFUNDED):
        db.session.rollback()
        return _after_lost_race(payment)
    session = db.session
    escrow = ledger.AccountRef(ESCROW, payment.currency, payment.order_id)
    buyer = ledger.AccountRef(WALLET, payment.currency, payment.user_id)
    ledger.post(session, ledger.REFUND, payment.reference, [(escrow, -payment.amount), (buyer, payment.amount)],
                order_id=payment.order_id)
    session.commit()
    return payment


def _refund_through_paystack(payment: Payment) -> Payment:
    if payment.refund_state == REFUND_PENDING:
        return payment
    # A failed earlier refund's id must not be asked about (by the reverify job) as if it were this one's.
    if not store.claim_refund(db.session, payment, refund_state=REFUND_PENDING, paystack_refund_id=None):
        db.session.rollback()
        return _after_lost_race(payment)
    db.session.commit()
    try:
        data = deps().paystack.refund(payment.reference)
    except PaystackError:
        # Paystack did not take it: the refund may be asked again.
        store.reopen_refund(db.session, payment.id)
        db.session.commit()
        raise
    store.reload(db.session, payment)
    payment.paystack_refund_id = str(data.get("id") or "")
    db.session.commit()
    return payment


def _after_lost_race(payment: Payment) -> Payment:
    store.reload(db.session, payment)
    if payment.status == REFUNDED or payment.refund_state == REFUND_PENDING:
        return payment
    _check_refundable(payment)
    raise conflict("The payment changed while it was being refunded; try again.")


def public_refund_status(payment: Payment) -> str:
    return "refunded" if payment.status == REFUNDED else "pending"


# --- Paystack refund events --------------------------------------------------------------------------


def settle_refund_processed(data: dict[str, Any]) -> list[uuid.UUID]:
    payment = find_by_reference(str(data.get("transaction_reference") or ""))
    if payment is None or payment.method != PAYSTACK_METHOD:
        logger.warning("refund.processed for an unknown payment")
        return []
    if data.get("amount") != payment.amount or data.get("currency") != payment.currency:
        # We only ever ask for full refunds; anything else was done by hand on Paystack's dashboard.
        logger.error("refund.processed does not match the payment", extra={"reference": payment.reference})
        return []
    if payment.order_id is None:
        logger.error("refund.processed for a top-up; needs a person", extra={"reference": payment.reference})
        return []
    if not store.mark_refunded(db.session, payment):
        return []
    session = db.session
    escrow = ledger.AccountRef(ESCROW, payment.currency, payment.order_id)
    clearing = ledger.AccountRef(PAYSTACK_CLEARING, payment.currency)
    ledger.post(session, ledger.REFUND, payment.reference, [(escrow, -payment.amount), (clearing, payment.amount)],
                order_id=payment.order_id)
    message = outbox.enqueue(session, payment, outbox.REFUNDED)
    return [message.id] if message else []


def settle_refund_failed(data: dict[str, Any]) -> list[uuid.UUID]:
    payment = find_by_reference(str(data.get("transaction_reference") or ""))
    if payment is None:
        return []
    store.mark_refund_failed(db.session, payment.id)
    logger.error("paystack refund failed; it may be asked again", extra={"reference": payment.reference})
    return []


def refund_rejected_order(order_id: uuid.UUID) -> None:
    """The orders service refused a paid order (cancelled meanwhile): refund it. Raises to be retried."""
    payment = find_by_order(order_id)
    if payment is None or payment.status == REFUNDED:
        return
    refund_order(order_id)
