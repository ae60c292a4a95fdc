"""Taking money: order payments (wallet or Paystack), top-ups, and settling Paystack charges.

A Paystack charge is settled from three places: the webhook, a read of the payment (verify on the way) and
the periodic re-verify job. Each goes through `apply_paystack_transaction`, whose state change is a
conditional UPDATE, so whichever comes first has the effect and the others find nothing left to do.
Functions here change the session and never commit: the caller commits (with its de-duplication row) and
then delivers the outbox messages they return.
"""
from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from storefront_common.currency import shop_currency
from storefront_common.errors import ProblemError, conflict
from storefront_common.timeutil import utcnow

from . import ledger, outbox, store
from .dependencies import db, deps
from .models import (ABANDONED, ESCROW, WALLET, FAILED, NO_REFUND, PAYSTACK_CLEARING, PENDING, REVIEW, SUCCESS,
                     Payment)
from .paystack import PaystackError

logger = logging.getLogger("storefront.payments.charges")
ORDER, TOPUP = "order", "topup"
WALLET_METHOD, PAYSTACK_METHOD = "wallet", "paystack"
# A charge Paystack reports as successful still counts after we gave up on it: the money was taken.
SETTLEABLE = (PENDING, FAILED, ABANDONED)
STUCK_AFTER = timedelta(seconds=60)
# What a Paystack transaction or transfer reference may contain; anything else cannot be one of ours.
REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9._=-]{1,100}$")


class InsufficientWalletFunds(ProblemError):
    def __init__(self, balance: int, amount: int) -> None:
        super().__init__(402, "The wallet balance is too low for this payment.", title="Insufficient Funds",
                         extra={"balance": balance, "amount": amount})


def new_reference(prefix: str) -> str:
    # Paystack transaction references allow letters, digits, '-', '.' and '='.
    return f"{prefix}-{uuid.uuid4().hex}"


def is_reference(value: object) -> bool:
    return isinstance(value, str) and REFERENCE_PATTERN.match(value) is not None


def find_by_reference(reference: str) -> Payment | None:
    if not is_reference(reference):
        return None
    return store.payment_by_reference(db.session, reference)


def public_status(payment: Payment) -> str:
    # Held for review means nothing was credited: for the payer it failed.
    return FAILED if payment.status == REVIEW else payment.status


def find_by_order(order_id: uuid.UUID) -> Payment | None:
    return store.payment_by_order(db.session, order_id)


# --- order payments -------------------------------------------------------------------------------------


def pay_order(order_id: uuid.UUID, user_id: uuid.UUID, email: str, amount: int, currency: str, method: str,
              splits: list[tuple[uuid.UUID, int]]) -> tuple[Payment, bool]:
    """The order's payment and whether this call created it; a repeat returns the first one."""
    row = _order_payment_row(order_id, user_id, email, amount, currency, method)
    existing = _insert_or_find(row, splits)
    if existing is not None and _forget_if_stuck(existing):
        existing = _insert_or_find(row, splits)
    if existing is not None:
        return _repeat(existing, user_id, amount, currency, method), False
    return (_pay_from_wallet(row) if method == WALLET_METHOD else _pay_with_paystack(row["id"])), True


def _order_payment_row(order_id: uuid.UUID, user_id: uuid.UUID, email: str, amount: int, currency: str,
                       method: str) -> dict[str, Any]:
    # A wallet payment is inserted as paid: it commits together with its ledger posting or not at all.
    paid, now = method == WALLET_METHOD, utcnow()
    return {"id": uuid.uuid4(), "order_id": order_id, "user_id": user_id, "email": email, "amount": amount,
            "currency": currency, "method": method, "purpose": ORDER, "status": SUCCESS if paid else PENDING,
            "paid_at": now if paid else None, "reference": new_reference("wal" if paid else "ord"),
            "refund_state": NO_REFUND, "created_at": now, "updated_at": now}


def _insert_or_find(row: dict[str, Any], splits: list[tuple[uuid.UUID, int]]) -> Payment | None:
    """Insert the order's payment, or return the one the order has (a concurrent call's, once that commits)."""
    if store.insert_order_payment(db.session, row, _merge(splits)):
        return None
    existing = find_by_order(row["order_id"])
    if existing is None:
        raise conflict("A payment with this reference exists already.")
    return existing


def _forget_if_stuck(payment: Payment) -> bool:
    """A Paystack payment left without a checkout link (its process died mid-way) can never be paid: drop it."""
    if payment.method != PAYSTACK_METHOD or payment.authorization_url is not None:
        return False
    if utcnow() - payment.created_at < STUCK_AFTER:
        return False
    stuck = store.lock_payment_without_checkout(db.session, payment.id)
    if stuck is None:
        db.session.rollback()
        return False
    store.remove(db.session, stuck)
    db.session.commit()
    return True


def _merge(splits: list[tuple[uuid.UUID, int]]) -> list[tuple[uuid.UUID, int]]:
    merged: dict[uuid.UUID, int] = defaultdict(int)
    for vendor_id, part in splits:
        merged[vendor_id] += part
    return sorted(merged.items())


def _repeat(payment: Payment, user_id: uuid.UUID, amount: int, currency: str, method: str) -> Payment:
    if (payment.user_id, payment.amount, payment.currency, payment.method) != (user_id, amount, currency, method):
        raise conflict("This order already has a payment with different details.")
    if payment.method == PAYSTACK_METHOD and payment.authorization_url is None:
        raise ProblemError(409, "This order's payment is still being set up.", headers={"Retry-After": "1"})
    return payment


def _pay_from_wallet(row: dict[str, Any]) -> Payment:
    session = db.session
    currency, amount = row["currency"], row["amount"]
    legs = [(ledger.AccountRef(WALLET, currency, row["user_id"]), -amount),
            (ledger.AccountRef(ESCROW, currency, row["order_id"]), amount)]
    try:
        ledger.post(session, ledger.PAYMENT, row["reference"], legs, order_id=row["order_id"])
    except ledger.InsufficientFunds as short:
        session.rollback()
        # Nothing is recorded: with more money in the wallet, the same order can be paid later.
        raise InsufficientWalletFunds(short.balance, amount) from None
    session.commit()
    # The row as inserted: reading it back would cost a query and a transaction.
    return Payment(**row)


def _pay_with_paystack(payment_id: uuid.UUID) -> Payment:
    db.session.commit()
    return _initialize(store.payment(db.session, payment_id))


# --- top-ups --------------------------------------------------------------------------------------------


def start_topup(user_id: uuid.UUID, email: str, amount: int) -> Payment:
    payment = Payment(user_id=user_id, email=email, amount=amount, currency=shop_currency(), method=PAYSTACK_METHOD,
                      purpose=TOPUP, status=PENDING, reference=new_reference("top"))
    store.add(db.session, payment)
    db.session.commit()
    return _initialize(payment)


def _initialize(payment: Payment) -> Payment:
    """Ask Paystack for a checkout. The row is committed first so a webhook can never find nothing."""
    metadata = {"purpose": payment.purpose, "user_id": str(payment.user_id)}
    if payment.order_id:
        metadata["order_id"] = str(payment.order_id)
    checkout = {"email": payment.email or "", "amount": payment.amount, "currency": payment.currency,
                "reference": payment.reference}
    db.session.commit()  # no connection idles in a transaction while Paystack answers
    try:
        data = deps().paystack.initialize(**checkout, callback_url=deps().settings.paystack_callback_url or None,
                                          metadata=metadata)
    except Exception:
        # Nobody has a checkout link for it, so nobody can pay it: forget it; a retry starts afresh.
        db.session.rollback()
        store.remove(db.session, payment)
        db.session.commit()
        raise
    payment.authorization_url = str(data.get("authorization_url") or "")
    payment.access_code = str(data.get("access_code") or "")
    db.session.commit()
    return payment


# --- settling Paystack charges -----------------------------------------------------------------------


def apply_paystack_transaction(payment: Payment, data: dict[str, Any]) -> list[uuid.UUID]:
    """Act on Paystack's view of a transaction (verify `data` or a charge.success `data`); outbox ids to send."""
    status = data.get("status")
    if status == "success":
        return _settle_success(payment, data)
    if status == "failed":
        return _settle_as(payment, FAILED, from_statuses=(PENDING,))
    if status == "abandoned" and utcnow() - payment.created_at > timedelta(
            seconds=deps().settings.payment_abandon_after_seconds):
        # Verify says "abandoned" for a checkout nobody completed yet; only age makes it final.
        return _settle_as(payment, ABANDONED, from_statuses=(PENDING,))
    return []


def _settle_as(payment: Payment, status: str, from_statuses: tuple[str, ...]) -> list[uuid.UUID]:
    if not store.move_payment_status(db.session, payment, status, from_statuses):
        return []
    logger.info("payment settled", extra={"reference": payment.reference, "status": status})
    return _notify(payment, outbox.FAILED)


def _settle_success(payment: Payment, data: dict[str, Any]) -> list[uuid.UUID]:
    if payment.method != PAYSTACK_METHOD:
        return []
    amount, currency = data.get("amount"), data.get("currency")
    if type(amount) is not int or amount != payment.amount or currency != payment.currency:
        return _hold_for_review(payment, amount, currency)
    if not store.move_payment_status(db.session, payment, SUCCESS, SETTLEABLE, paid_at=utcnow()):
        return []
    session = db.session
    clearing = ledger.AccountRef(PAYSTACK_CLEARING, payment.currency)
    if payment.purpose == TOPUP:
        target, kind = ledger.AccountRef(WALLET, payment.currency, payment.user_id), ledger.TOPUP
    else:
        target, kind = ledger.AccountRef(ESCROW, payment.currency, payment.order_id), ledger.PAYMENT
    ledger.post(session, kind, payment.reference, [(clearing, -payment.amount), (target, payment.amount)],
                order_id=payment.order_id)
    logger.info("payment settled", extra={"reference": payment.reference, "status": SUCCESS})
    return _notify(payment, outbox.SUCCEEDED)


def _hold_for_review(payment: Payment, amount: Any, currency: Any) -> list[uuid.UUID]:
    reason = f"charged {amount!r} {currency!r}, asked {payment.amount} {payment.currency}"[:200]
    if not store.move_payment_status(db.session, payment, REVIEW, SETTLEABLE, review_reason=reason):
        return []
    logger.error("paystack charge does not match the payment; held for review",
                 extra={"reference": payment.reference, "reason": reason})
    # The order cannot be paid by this charge; the orders service may cancel it and free the stock.
    return _notify(payment, outbox.FAILED)


def _notify(payment: Payment, event: str) -> list[uuid.UUID]:
    message = outbox.enqueue(db.session, payment, event)
    return [] if message is None else [message.id]


def verify_and_apply(payment: Payment) -> list[uuid.UUID]:
    """Ask Paystack about a pending payment and settle it; raises PaystackError when Paystack cannot say."""
    if payment.method != PAYSTACK_METHOD or payment.status != PENDING:
        return []
    reference = payment.reference
    db.session.commit()  # no connection idles in a transaction while Paystack answers
    try:
        data = deps().paystack.verify(reference)
    except PaystackError as error:
        if error.status != 404:
            raise
        # Paystack never got it (initialize lost on the way): like an unpaid checkout, given up on with age.
        data = {"status": "abandoned"}
    return apply_paystack_transaction(payment, data)
