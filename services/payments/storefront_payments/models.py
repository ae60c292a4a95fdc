"""Tables of the payments service: the ledger, payments, payouts, webhook de-duplication and the outbox."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront_common.db import UTCDateTime, created_at_column, updated_at_column, uuid_pk
from storefront_common.idempotency import IdempotencyRecordMixin

from .dependencies import db

# Account kinds. Accounts standing for the world outside (what Paystack holds for us, what left to banks)
# may go negative; every other account holds real money of someone and never does.
WALLET = "wallet"
ESCROW = "escrow"  # one per order, owner_id = the order id
PAYSTACK_CLEARING = "paystack_clearing"
PAYOUTS_IN_FLIGHT = "payouts_in_flight"
PAYOUTS = "payouts"
PLATFORM_FEES = "platform_fees"
EXTERNAL_KINDS = (PAYSTACK_CLEARING, PAYOUTS)

Model: Any = db.Model


class Account(Model):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN ('{PAYSTACK_CLEARING}', '{PAYOUTS}') OR balance >= 0", name="not_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()


class LedgerTransaction(Model):
    __tablename__ = "ledger_transactions"

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    reference: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = created_at_column()

    entries: Mapped[list[Entry]] = relationship(back_populates="transaction")


class Entry(Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account_created", "account_id", "created_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    transaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_transactions.id"), nullable=False,
                                                      index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


# Payment statuses. `review`: Paystack charged an amount or currency other than the one asked; nothing is
# credited and a person must look at it. The API shows it as "failed".
PENDING, SUCCESS, FAILED, ABANDONED = "pending", "success", "failed", "abandoned"
REFUNDED, REVIEW = "refunded", "review"
# Refund states of a Paystack payment, between asking Paystack and its refund.processed.
NO_REFUND, REFUND_PENDING, REFUND_FAILED = "none", "pending", "failed"


class Payment(Model):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    reference: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)  # order | topup
    method: Mapped[str] = mapped_column(String(16), nullable=False)  # wallet | paystack
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING, index=True)
    authorization_url: Mapped[str | None] = mapped_column(Text)
    access_code: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(String(200))
    refund_state: Mapped[str] = mapped_column(String(16), nullable=False, default=NO_REFUND)
    paystack_refund_id: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_result: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    splits: Mapped[list[PaymentSplit]] = relationship(back_populates="payment", order_by="PaymentSplit.vendor_id",
                                                       cascade="all, delete-orphan")


class PaymentSplit(Model):
    """Which vendor an order payment's escrow belongs to: what makes `escrow_pending` computable."""

    __tablename__ = "payment_splits"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), nullable=False, index=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)

    payment: Mapped[Payment] = relationship(back_populates="splits")


class PayoutAccount(Model):
    __tablename__ = "payout_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_number: Mapped[str] = mapped_column(String(20), nullable=False)
    bank_code: Mapped[str] = mapped_column(String(20), nullable=False)
    account_name: Mapped[str] = mapped_column(String(200), nullable=False)
    recipient_code: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = updated_at_column()


# Payout statuses: pending until Paystack's transfer webhook (or the reverify job) settles it.
PAYOUT_PENDING, PAYOUT_SUCCESS, PAYOUT_FAILED, PAYOUT_REVERSED = "pending", "success", "failed", "reversed"


class Payout(Model):
    __tablename__ = "payouts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    recipient_code: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PAYOUT_PENDING, index=True)
    transfer_code: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WebhookEvent(Model):
    """One row per Paystack event handled; inserted in the same transaction as the event's effect."""

    __tablename__ = "webhook_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class OutboxMessage(Model):
    """A payment event for the orders service, written with the ledger effect, delivered after commit."""

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    payload: Mapped[Any] = mapped_column(JSON, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()


class IdempotencyRecord(IdempotencyRecordMixin, Model):
    pass
