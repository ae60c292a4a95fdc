"""Releasing an order's escrow to its vendors on delivery, less the platform fee."""
from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from storefront_common.errors import conflict, not_found, validation_error

from . import ledger, store
from .charges import find_by_order
from .dependencies import db, deps
from .models import ESCROW, PLATFORM_FEES, REFUND_PENDING, SUCCESS, WALLET, Payment


def fee_for(amount: int, fee_bps: int) -> int:
    # Rounded down: the vendor never pays more than the advertised rate.
    return amount * fee_bps // 10_000


def release(order_id: uuid.UUID, splits: list[tuple[uuid.UUID, int]]) -> dict[str, Any]:
    """Credit each vendor's wallet with its split and take the fee. Idempotent: a repeat gets the first result."""
    payment = find_by_order(order_id)
    if payment is None:
        raise not_found("payment for this order")
    if payment.released_at is not None:
        return payment.release_result
    _check_releasable(payment)
    merged = _merge(splits)
    if sum(merged.values()) != payment.amount:
        raise validation_error([{"field": "splits", "message": f"The splits must sum to the escrowed amount, "
                                                               f"{payment.amount}."}])
    if not store.claim_release(db.session, payment):
        db.session.rollback()
        store.reload(db.session, payment)
        if payment.released_at is not None:
            return payment.release_result
        _check_releasable(payment)
        raise conflict("The payment changed while it was being released; try again.")
    result = _post_release(payment, merged)
    store.save_release_result(db.session, payment.id, result)
    db.session.commit()
    return result


def _check_releasable(payment: Payment) -> None:
    if payment.status != SUCCESS:
        raise conflict(f"The payment is {payment.status}; there is no escrow to release.")
    if payment.refund_state == REFUND_PENDING:
        raise conflict("The payment is being refunded.")


def _merge(splits: list[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, int]:
    merged: dict[uuid.UUID, int] = defaultdict(int)
    for vendor_id, amount in splits:
        merged[vendor_id] += amount
    return dict(sorted(merged.items()))


def _post_release(payment: Payment, splits: dict[uuid.UUID, int]) -> dict[str, Any]:
    session, currency, fee_bps = db.session, payment.currency, deps().settings.platform_fee_bps
    escrow = ledger.AccountRef(ESCROW, currency, payment.order_id)
    wallets = {vendor_id: ledger.AccountRef(WALLET, currency, vendor_id) for vendor_id in splits}
    platform = ledger.AccountRef(PLATFORM_FEES, currency)
    fees = {vendor_id: fee_for(amount, fee_bps) for vendor_id, amount in splits.items()}
    total_fee = sum(fees.values())
    # Both postings' accounts are locked (and created) at once, in id order: the second one then waits for nobody.
    ledger.lock_accounts(session, [escrow, *wallets.values(), *([platform] if total_fee else [])])
    credits = [(wallets[vendor_id], amount) for vendor_id, amount in splits.items() if amount]
    ledger.post(session, ledger.ESCROW_RELEASE, payment.reference, [(escrow, -payment.amount), *credits],
                order_id=payment.order_id)
    if total_fee:
        # A separate `fee` transaction, so the vendor's history shows the gross release and the fee apart.
        legs = [(wallets[vendor_id], -fee) for vendor_id, fee in fees.items() if fee]
        ledger.post(session, ledger.FEE, payment.reference, [*legs, (platform, total_fee)], order_id=payment.order_id)
    return {
        "order_id": str(payment.order_id), "reference": payment.reference, "currency": currency,
        "amount": payment.amount, "fee_bps": fee_bps, "fee_total": total_fee,
        "splits": [{"vendor_id": str(vendor_id), "amount": amount, "fee": fees[vendor_id],
                    "net": amount - fees[vendor_id]} for vendor_id, amount in splits.items()],
    }

