"""Vendor payouts: a Paystack transfer recipient per vendor, the wallet debited before the transfer is sent.

The wallet is debited into `payouts_in_flight` in one transaction, then the transfer is asked for. A
transfer Paystack refuses, fails or reverses puts the money back in the wallet (`payout_reversal`). When
Paystack cannot be reached the payout stays pending and the periodic job finishes it: the transfer reference
is ours, so asking again can never pay twice (Paystack refuses a duplicate reference).
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from storefront_common.currency import shop_currency
from storefront_common.errors import conflict, validation_error
from storefront_common.timeutil import utcnow

from . import ledger, store
from .charges import InsufficientWalletFunds, is_reference
from .dependencies import db, deps
from .models import (PAYOUT_FAILED, PAYOUT_PENDING, PAYOUT_REVERSED, PAYOUT_SUCCESS, PAYOUTS, PAYOUTS_IN_FLIGHT,
                     WALLET, Payout, PayoutAccount)
from .paystack import PaystackError, PaystackUnavailable

logger = logging.getLogger("storefront.payments.payouts")


def set_payout_account(user_id: uuid.UUID, account_number: str, bank_code: str) -> PayoutAccount:
    paystack = deps().paystack
    try:
        resolved = paystack.resolve_account(account_number, bank_code)
    except PaystackError as error:
        if isinstance(error, PaystackUnavailable) or error.rejected_our_key:
            raise
        raise validation_error([{"field": "account_number", "message": "The account could not be resolved at "
                                                                       "this bank."}]) from None
    name = str(resolved.get("account_name") or "")
    recipient = paystack.create_recipient(name=name, account_number=account_number, bank_code=bank_code,
                                          currency=shop_currency())
    account = store.payout_account(db.session, user_id) or PayoutAccount(user_id=user_id)
    account.account_number, account.bank_code, account.account_name = account_number, bank_code, name
    account.recipient_code = str(recipient.get("recipient_code") or "")
    account.updated_at = utcnow()
    store.add(db.session, account)
    db.session.commit()
    return account


def create_payout(user_id: uuid.UUID, amount: int) -> Payout:
    destination = store.payout_account(db.session, user_id)
    if destination is None:
        raise conflict("Set a payout account first (PUT /api/v1/wallet/payout-account).")
    currency = shop_currency()
    payout = Payout(user_id=user_id, amount=amount, currency=currency, recipient_code=destination.recipient_code,
                    status=PAYOUT_PENDING, reference=f"payout_{uuid.uuid4().hex}")
    session = db.session
    store.add(session, payout)
    wallet = ledger.AccountRef(WALLET, currency, user_id)
    in_flight = ledger.AccountRef(PAYOUTS_IN_FLIGHT, currency)
    try:
        ledger.post(session, ledger.PAYOUT, payout.reference, [(wallet, -amount), (in_flight, amount)])
    except ledger.InsufficientFunds as short:
        session.rollback()
        raise InsufficientWalletFunds(short.balance, amount) from None
    session.commit()
    try:
        _initiate(payout)
    except Exception:
        # The wallet is debited and committed: answering 5xx would invite a retry that debits again.
        db.session.rollback()
        logger.exception("transfer not sent; the reverify job will finish it", extra={"reference": payout.reference})
    return payout


def _initiate(payout: Payout) -> None:
    reference = payout.reference
    transfer = {"amount": payout.amount, "recipient": payout.recipient_code, "reference": reference,
                "currency": payout.currency}
    db.session.commit()  # no connection idles in a transaction while Paystack answers
    try:
        data = deps().paystack.transfer(**transfer, reason="Storefront vendor payout")
    except PaystackUnavailable:
        logger.warning("transfer not sent; the reverify job will retry", extra={"reference": reference})
        return
    except PaystackError as error:
        if error.code == "duplicate_reference":
            return  # sent before; the webhook or the reverify job settles it
        logger.error("paystack refused the transfer", extra={"reference": reference})
        settle_transfer(reference, PAYOUT_FAILED, reason=error.message)
        db.session.commit()
        return
    store.save_transfer_code(db.session, reference, str(data.get("transfer_code") or "") or None)
    db.session.commit()
    _apply_transfer_status(reference, data)


def _apply_transfer_status(reference: str, data: dict[str, Any]) -> None:
    status = data.get("status")
    if status in (PAYOUT_SUCCESS, PAYOUT_FAILED, PAYOUT_REVERSED):
        settle_transfer(reference, str(status))
        db.session.commit()


def settle_transfer(reference: str, outcome: str, reason: str | None = None) -> bool:
    """Apply a transfer's outcome once; the caller commits. False when there was nothing to do."""
    payout = None
    if is_reference(reference):
        payout = store.payout_by_reference(db.session, reference)
    if payout is None:
        logger.warning("transfer event for an unknown payout")
        return False
    if outcome == PAYOUT_SUCCESS:
        return _settle(payout, PAYOUT_SUCCESS, (PAYOUT_PENDING,), PAYOUTS_IN_FLIGHT, PAYOUTS, ledger.PAYOUT, reason)
    if _settle(payout, outcome, (PAYOUT_PENDING,), PAYOUTS_IN_FLIGHT, WALLET, ledger.PAYOUT_REVERSAL, reason):
        return True
    # A bank may reverse a transfer it had completed: the money comes back from outside.
    if outcome == PAYOUT_REVERSED:
        return _settle(payout, PAYOUT_REVERSED, (PAYOUT_SUCCESS,), PAYOUTS, WALLET, ledger.PAYOUT_REVERSAL, reason)
    return False


def _settle(payout: Payout, to: str, from_statuses: tuple[str, ...], source_kind: str, target_kind: str,
            kind: str, reason: str | None) -> bool:
    if not store.move_payout_status(db.session, payout, to, from_statuses, reason):
        return False
    session = db.session
    owner = payout.user_id if target_kind == WALLET else None
    source = ledger.AccountRef(source_kind, payout.currency)
    target = ledger.AccountRef(target_kind, payout.currency, owner)
    ledger.post(session, kind, payout.reference, [(source, -payout.amount), (target, payout.amount)])
    logger.info("payout settled", extra={"reference": payout.reference, "status": to})
    return True


def reverify_payout(payout: Payout) -> None:
    """A pending payout whose webhook never came (or whose transfer was never sent): ask Paystack."""
    reference = payout.reference
    db.session.commit()  # no connection idles in a transaction while Paystack answers
    try:
        data = deps().paystack.verify_transfer(reference)
    except PaystackUnavailable:
        return
    except PaystackError as error:
        if error.status == 404:
            _initiate(payout)  # never reached Paystack: send it now, under the same reference
        return
    _apply_transfer_status(reference, data)

