"""Re-verifying with Paystack what a lost webhook left pending (payments, refunds, payouts), and delivering the
outbox after a commit and again from the `reverify-payments` job."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from storefront_common.timeutil import utcnow

from . import charges, outbox, paystack_events, payouts, refunds, store
from .dependencies import db, deps
from .models import REFUND_PENDING, SUCCESS, Payment
from .paystack import PaystackError

logger = logging.getLogger("storefront.payments.reverification")


def deliver_now(outbox_ids: Iterable[uuid.UUID]) -> None:
    """Right after a commit: tell the orders service; what fails here the periodic job sends later."""
    ids = list(outbox_ids)
    if ids:
        outbox.deliver(db.session, deps().orders, ids, refunds.refund_rejected_order)


def reverify_payment(payment: Payment) -> None:
    """Verify one pending Paystack payment and settle it; Paystack being down leaves it pending."""
    try:
        outbox_ids = charges.verify_and_apply(payment)
    except PaystackError as error:
        db.session.rollback()
        logger.warning("could not verify payment", extra={"reference": payment.reference, "status": error.status})
        return
    db.session.commit()
    deliver_now(outbox_ids)


def refund_overdue(payment: Payment, older_than_seconds: int) -> bool:
    """A Paystack refund asked for at least this long ago and not settled yet."""
    return (payment.status == SUCCESS and payment.refund_state == REFUND_PENDING
            and payment.updated_at <= utcnow() - timedelta(seconds=older_than_seconds))


def reverify_refund(payment: Payment) -> None:
    """A pending refund whose webhook may be lost: ask Paystack for it and apply the answer as that webhook.

    It goes through `paystack_events.handle_event` under the webhook's own de-duplication key, so the webhook and this
    check (and two checks) may arrive in any order, even together: the first has the effect, the rest nothing.
    Paystack being down leaves it pending.
    """
    refund_id, reference = payment.paystack_refund_id, payment.reference
    if not refund_id:
        _reverify_refund_by_charge(payment)
        return
    db.session.commit()  # no connection idles in a transaction while Paystack answers
    try:
        data = deps().paystack.fetch_refund(refund_id)
    except PaystackError as error:
        logger.warning("could not fetch refund", extra={"reference": reference, "status": error.status})
        return
    event = _refund_event(data, reference)
    if event is not None:
        deliver_now(paystack_events.handle_event(event, data))


def _refund_event(data: dict[str, Any], reference: str) -> str | None:
    """The webhook a fetched refund stands for; None while Paystack is still working on it."""
    status = data.get("status")
    if status in ("processed", "failed"):
        return f"refund.{status}"
    if status == "needs-attention":
        # Paystack waits for the customer's bank details on its dashboard: waiting alone will not settle it.
        logger.error("paystack refund needs attention", extra={"reference": reference})
    return None


def _reverify_refund_by_charge(payment: Payment) -> None:
    """A refund whose id was never stored (the process stopped after asking): settled only when verify shows the
    charge `reversed`, which is what Paystack does to a fully refunded one."""
    reference, amount, currency = payment.reference, payment.amount, payment.currency
    db.session.commit()  # no connection idles in a transaction while Paystack answers
    try:
        data = deps().paystack.verify(reference)
    except PaystackError:
        return
    if data.get("status") != "reversed":
        return
    outbox_ids = refunds.settle_refund_processed({"transaction_reference": reference, "amount": amount,
                                                  "currency": currency})
    db.session.commit()
    deliver_now(outbox_ids)


def reverify_pending(older_than_seconds: int, limit: int = 200) -> dict[str, int]:
    """The `reverify-payments` job: everything pending for `older_than_seconds`, at most `limit` of each."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    pending = store.payments_to_reverify(db.session, charges.PAYSTACK_METHOD, cutoff, limit)
    for payment in pending:
        reverify_payment(payment)
    refunding = store.refunds_to_reverify(db.session, cutoff, limit)
    for payment in refunding:
        reverify_refund(payment)
    pending_payouts = store.payouts_to_reverify(db.session, cutoff, limit)
    for payout in pending_payouts:
        payouts.reverify_payout(payout)
    delivered = outbox.deliver(db.session, deps().orders, outbox.undelivered_ids(db.session, limit),
                               refunds.refund_rejected_order)
    return {"payments_checked": len(pending), "refunds_checked": len(refunding),
            "payouts_checked": len(pending_payouts),
            "events_delivered": delivered}
