"""In-memory state of the simulator.

Everything lives in one `Store` per app, guarded by one re-entrant lock. It is
a development tool served by a single process, so state is lost on restart;
that is intended (`POST /_simulator/reset` clears it without a restart).

Callers hold `store.lock` while they read or change records and while they
turn records into JSON, and release it before any network I/O (webhooks), so
a webhook receiver may call back into the simulator without a deadlock.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

_LOWER_ALNUM = string.ascii_lowercase + string.digits


def now() -> datetime:
    return datetime.now(timezone.utc)


def random_token(length: int) -> str:
    return "".join(secrets.choice(_LOWER_ALNUM) for _ in range(length))


@dataclass
class Customer:
    id: int
    email: str
    customer_code: str


@dataclass
class Authorization:
    """A reusable card authorization saved by a successful checkout."""

    authorization_code: str
    signature: str
    customer: Customer


@dataclass
class Transaction:
    id: int
    reference: str
    access_code: str
    amount: int
    currency: str
    customer: Customer
    callback_url: str | None
    metadata: Any
    created_at: datetime
    # "pending" is internal: Paystack reports an unpaid transaction as
    # "abandoned" (see shapes.visible_status).
    status: str = "pending"
    paid_at: datetime | None = None
    authorization: Authorization | None = None
    channel: str = "card"


@dataclass
class Refund:
    id: int
    transaction: Transaction
    amount: int
    currency: str
    customer_note: str
    merchant_note: str
    created_at: datetime
    updated_at: datetime
    status: str = "pending"


@dataclass
class Recipient:
    id: int
    recipient_code: str
    name: str
    account_number: str
    account_name: str
    bank_code: str
    bank_name: str
    currency: str
    description: str
    metadata: Any
    created_at: datetime


@dataclass
class Transfer:
    id: int
    transfer_code: str
    reference: str
    amount: int
    currency: str
    reason: str
    recipient: Recipient
    created_at: datetime
    updated_at: datetime
    status: str = "pending"
    transferred_at: datetime | None = None


@dataclass
class Delivery:
    """One attempt to deliver a webhook; status_code 0 means unreachable."""

    event: str
    reference: str
    status_code: int
    error: str | None
    at: datetime


@dataclass
class Store:
    lock: threading.RLock = field(default_factory=threading.RLock)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    refunds: dict[int, Refund] = field(default_factory=dict)
    recipients: dict[str, Recipient] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    # The exact bytes of the last webhook sent per reference, for replay.
    last_webhooks: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _next_id: int = 1000001

    def reset(self) -> None:
        with self.lock:
            self.transactions.clear()
            self.customers.clear()
            self.authorizations.clear()
            self.refunds.clear()
            self.recipients.clear()
            self.transfers.clear()
            self.last_webhooks.clear()
            self.deliveries.clear()

    def next_id(self) -> int:
        with self.lock:
            value = self._next_id
            self._next_id += 1
            return value

    def customer_for(self, email: str) -> Customer:
        with self.lock:
            key = email.lower()
            if key not in self.customers:
                self.customers[key] = Customer(
                    id=self.next_id(), email=email, customer_code="CUS_" + random_token(15)
                )
            return self.customers[key]

    def transaction_by_access_code(self, access_code: str) -> Transaction | None:
        with self.lock:
            for txn in self.transactions.values():
                if txn.access_code == access_code:
                    return txn
            return None

    def transaction_by_reference_or_id(self, key: str) -> Transaction | None:
        with self.lock:
            if key in self.transactions:
                return self.transactions[key]
            for txn in self.transactions.values():
                if str(txn.id) == key:
                    return txn
            return None

    def recipient_by_account(self, account_number: str, bank_code: str) -> Recipient | None:
        with self.lock:
            for recipient in self.recipients.values():
                if (recipient.account_number, recipient.bank_code) == (account_number, bank_code):
                    return recipient
            return None

    def refundable_amount(self, txn: Transaction) -> int:
        with self.lock:
            claimed = sum(
                refund.amount
                for refund in self.refunds.values()
                if refund.transaction is txn and refund.status != "failed"
            )
            return txn.amount - claimed
