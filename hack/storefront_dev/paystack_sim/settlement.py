"""Settling transactions, transfers and refunds, and sending their webhooks.

Shared by the checkout page and the control API. Each function changes the
record under the lock, builds the event payload while still holding it, and
delivers the webhook after releasing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import shapes
from .config import SimulatorConfig
from .state import Authorization, Store, Transaction, now, random_token
from .webhooks import send_event

TRANSACTION_OUTCOMES = ("success", "failed", "abandoned")
TRANSFER_OUTCOMES = ("success", "failed", "reversed")
REFUND_OUTCOMES = ("processed", "failed")


class NotFound(Exception):
    pass


class AlreadySettled(Exception):
    """Settling again is refused (409) and sends nothing; use replay to resend."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Settled:
    reference: str
    status: str
    webhook_status: int | None


def mark_paid(store: Store, txn: Transaction) -> None:
    """Record a successful card payment and save its reusable authorization."""
    txn.status = "success"
    txn.paid_at = now()
    authorization = Authorization(
        authorization_code="AUTH_" + random_token(10),
        signature="SIG_" + random_token(20),
        customer=txn.customer,
    )
    txn.authorization = authorization
    store.authorizations[authorization.authorization_code] = authorization


def settle_transaction(store: Store, config: SimulatorConfig, txn: Transaction, outcome: str) -> Settled:
    if outcome not in TRANSACTION_OUTCOMES:
        raise ValueError(outcome)
    with store.lock:
        if txn.status != "pending":
            raise AlreadySettled(shapes.visible_status(txn))
        if outcome == "success":
            mark_paid(store, txn)
        else:
            txn.status = outcome
        data = shapes.transaction_data(txn)
    # Paystack sends no webhook for a declined or abandoned checkout.
    webhook_status = None
    if outcome == "success":
        webhook_status = send_event(store, config, txn.reference, "charge.success", data)
    return Settled(txn.reference, data["status"], webhook_status)


def settle_transfer(store: Store, config: SimulatorConfig, reference: str, outcome: str) -> Settled:
    if outcome not in TRANSFER_OUTCOMES:
        raise ValueError(outcome)
    with store.lock:
        transfer = store.transfers.get(reference)
        if transfer is None:
            raise NotFound(reference)
        # A successful transfer can still be reversed later by the bank.
        allowed = transfer.status == "pending" or (transfer.status == "success" and outcome == "reversed")
        if not allowed:
            raise AlreadySettled(transfer.status)
        transfer.status = outcome
        transfer.updated_at = now()
        if outcome == "success":
            transfer.transferred_at = transfer.updated_at
        data = shapes.transfer_event_data(transfer)
    webhook_status = send_event(store, config, reference, f"transfer.{outcome}", data)
    return Settled(reference, outcome, webhook_status)


def settle_refund(store: Store, config: SimulatorConfig, refund_id: int, outcome: str) -> Settled:
    if outcome not in REFUND_OUTCOMES:
        raise ValueError(outcome)
    with store.lock:
        refund = store.refunds.get(refund_id)
        if refund is None:
            raise NotFound(str(refund_id))
        if refund.status != "pending":
            raise AlreadySettled(refund.status)
        refund.status = outcome
        refund.updated_at = now()
        txn = refund.transaction
        refunded = sum(r.amount for r in store.refunds.values() if r.transaction is txn and r.status == "processed")
        if refunded == txn.amount:
            txn.status = "reversed"
        data = shapes.refund_event_data(refund)
        reference = txn.reference
    # Keyed by the transaction reference: that is what the merchant knows.
    webhook_status = send_event(store, config, reference, f"refund.{outcome}", data)
    return Settled(reference, outcome, webhook_status)
