"""Request and response models: what the API accepts and what /openapi.json documents."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from storefront_common.validation import Body, Query

# Large enough for any real payment (₦10bn in kobo), small enough that no sum of them overflows a BIGINT.
MAX_AMOUNT = 1_000_000_000_000


def amount_field() -> Any:
    return Field(ge=1, le=MAX_AMOUNT, description="Integer amount in the currency's minor unit (kobo for NGN).")


# The shape Paystack itself accepts for an email address.
EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"

PublicPaymentStatus = Literal["pending", "success", "failed", "abandoned", "refunded"]
WalletKind = Literal["topup", "payment", "refund", "escrow_release", "payout", "payout_reversal", "fee"]


# --- wallet ----------------------------------------------------------------------------------------------


class WalletOut(BaseModel):
    balance: int
    currency: str
    escrow_pending: int = Field(description="For a vendor: money held in escrow for its paid, undelivered orders.")


class WalletTransactionOut(BaseModel):
    id: uuid.UUID
    kind: WalletKind
    amount: int = Field(description="Signed: positive credits the wallet, negative debits it.")
    balance_after: int
    reference: str
    created_at: str


class WalletTransactionPage(BaseModel):
    items: list[WalletTransactionOut]
    page: int
    per_page: int
    total: int
    pages: int


class TopupIn(Body):
    amount: int = amount_field()


class TopupOut(BaseModel):
    reference: str
    authorization_url: str
    access_code: str
    status: Literal["pending"]
    amount: int
    currency: str


class PayoutAccountIn(Body):
    account_number: str = Field(pattern=r"^[0-9]{10}$", description="A 10-digit NUBAN account number.")
    bank_code: str = Field(pattern=r"^[0-9]{3,10}$", description="The bank's code from Paystack's bank list.")


class PayoutAccountOut(BaseModel):
    account_number: str
    bank_code: str
    account_name: str
    updated_at: str


class PayoutIn(Body):
    amount: int = amount_field()


class PayoutOut(BaseModel):
    id: uuid.UUID
    reference: str
    amount: int
    currency: str
    status: Literal["pending", "success", "failed", "reversed"] = Field(
        description="`failed` at once when Paystack refused the transfer; the amount is back in the wallet.")
    failure_reason: str | None = None
    created_at: str


# --- payments --------------------------------------------------------------------------------------------


class PaymentOut(BaseModel):
    reference: str
    status: PublicPaymentStatus = Field(
        description="A charge whose amount or currency differs from the one asked is held for review and shown "
                    "as `failed`; nothing is credited.")
    amount: int
    currency: str
    purpose: Literal["order", "topup"]
    order_id: uuid.UUID | None = None
    paid_at: str | None = None


class CallbackQuery(Query):
    reference: str = Field(pattern=r"^[A-Za-z0-9.=-]{1,100}$")
    trxref: str | None = Field(default=None, max_length=100)


class WebhookIn(BaseModel):
    """Documented for completeness: the body is only read after its signature was verified."""

    event: str
    data: dict[str, Any]


class WebhookOut(BaseModel):
    status: Literal["ok"]


# --- internal --------------------------------------------------------------------------------------------


class SplitIn(Body):
    vendor_id: uuid.UUID
    amount: int = Field(ge=0, le=MAX_AMOUNT)


class InternalPaymentIn(Body):
    order_id: uuid.UUID
    user_id: uuid.UUID
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    amount: int = amount_field()
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    method: Literal["wallet", "paystack"]
    splits: list[SplitIn] = Field(default_factory=list, max_length=200,
                                  description="Each vendor's share; when given, they must sum to `amount`.")

    @model_validator(mode="after")
    def _splits_sum_to_amount(self) -> "InternalPaymentIn":
        if self.splits and sum(split.amount for split in self.splits) != self.amount:
            raise ValueError("splits must sum to amount")
        return self


class InternalPaymentOut(BaseModel):
    reference: str
    status: PublicPaymentStatus = Field(description="A new payment is `success` (wallet) or `pending` (paystack); "
                                                    "a repeat shows where the payment stands now.")
    method: Literal["wallet", "paystack"]
    amount: int
    currency: str
    authorization_url: str | None = None


class RefundOut(BaseModel):
    reference: str
    status: Literal["refunded", "pending"] = Field(
        description="`refunded`: back in the wallet; `pending`: asked of Paystack, settled by refund.processed.")


class ReleaseIn(Body):
    splits: list[SplitIn] = Field(min_length=1, max_length=200)


class ReleasedSplitOut(BaseModel):
    vendor_id: uuid.UUID
    amount: int
    fee: int
    net: int


class ReleaseOut(BaseModel):
    order_id: uuid.UUID
    reference: str
    currency: str
    amount: int
    fee_bps: int
    fee_total: int
    splits: list[ReleasedSplitOut]
