"""The double-entry ledger: accounts, balanced postings, and the ledger balance check.

Every movement of money is one `LedgerTransaction` whose entries sum to zero. Balances live on the account
rows and are changed only by `post`, with one conditional UPDATE under row locks taken in id order, so two
postings never deadlock and a wallet never goes below zero; the CHECK constraint on `accounts` is the last
line of defence should any code path forget. The statements are in `store` (a posting's four round trips are
described there).
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from storefront_common.timeutil import utcnow

from . import store
from .models import EXTERNAL_KINDS, PAYOUTS, PAYOUTS_IN_FLIGHT, PAYSTACK_CLEARING, PLATFORM_FEES, SUCCESS

# Kinds of ledger transactions; the wallet history shows them as they are.
TOPUP, PAYMENT, REFUND, ESCROW_RELEASE, PAYOUT, PAYOUT_REVERSAL, FEE = (
    "topup", "payment", "refund", "escrow_release", "payout", "payout_reversal", "fee")
SYSTEM_KINDS = (PAYSTACK_CLEARING, PAYOUTS_IN_FLIGHT, PAYOUTS, PLATFORM_FEES)


def account_code(kind: str, currency: str, owner_id: uuid.UUID | None = None) -> str:
    return f"{kind}:{currency}" if owner_id is None else f"{kind}:{owner_id}:{currency}"


@dataclass(frozen=True)
class AccountRef:
    """Names an account; the account row is created by the first posting (or lock) that uses it."""

    kind: str
    currency: str
    owner_id: uuid.UUID | None = None

    @property
    def code(self) -> str:
        return account_code(self.kind, self.currency, self.owner_id)


Leg = tuple[AccountRef, int]


class InsufficientFunds(Exception):
    """A posting would take an account that holds real money below zero; the caller must roll back."""

    def __init__(self, code: str, balance: int) -> None:
        super().__init__(code)
        self.code = code
        self.balance = balance  # read under the row lock: the balance the posting was refused against


def balance_of(session: Session, kind: str, currency: str, owner_id: uuid.UUID | None = None) -> int:
    return store.account_balance(session, account_code(kind, currency, owner_id))


def lock_accounts(session: Session, refs: Iterable[AccountRef]) -> list[Row[Any]]:
    """Lock the accounts (id, code, kind, balance), creating the missing ones; sorted by id.

    Existing rows are locked in id order, so concurrent postings queue and never deadlock. A row created here
    is invisible to everyone else until commit, so it needs no lock of its own.
    """
    wanted = {ref.code: ref for ref in refs}
    rows = store.lock_accounts(session, list(wanted))
    found = {row.code for row in rows}
    missing = [ref for code, ref in wanted.items() if code not in found]
    if missing:
        rows += _create(session, missing)
    return sorted(rows, key=lambda row: row.id)


def _create(session: Session, refs: list[AccountRef]) -> list[Row[Any]]:
    now, created = utcnow(), []
    for ref in refs:  # one INSERT each: on the checkout path the only new account is the order's escrow
        created += store.create_account(session, ref.code, ref.kind, ref.owner_id, ref.currency, now)
    # A concurrent posting created some first (our INSERT waited for its commit): lock those as they are now.
    lost = {ref.code for ref in refs} - {row.code for row in created}
    return created + (store.lock_accounts(session, sorted(lost)) if lost else [])


def post(session: Session, kind: str, reference: str, legs: Sequence[Leg],
         order_id: uuid.UUID | None = None) -> uuid.UUID:
    """Record one balanced transaction; raises InsufficientFunds (the caller rolls back) instead of overdrawing."""
    changes: dict[str, int] = defaultdict(int)
    for ref, amount in legs:
        changes[ref.code] += amount
    if sum(changes.values()) != 0:
        raise ValueError("a ledger transaction must sum to zero")
    accounts = lock_accounts(session, (ref for ref, _ in legs))
    balances = _apply(session, accounts, changes)
    return store.record_transaction(session, kind, reference, order_id,
                                    [(row.id, changes[row.code], balances[row.id]) for row in accounts])


def _apply(session: Session, accounts: list[Row[Any]], changes: dict[str, int]) -> dict[uuid.UUID, int]:
    """Every balance change at once; the new balances by account id."""
    balances = store.change_balances(session, [(row.id, changes[row.code]) for row in accounts])
    for row in accounts:
        if row.id not in balances:
            raise InsufficientFunds(row.code, int(row.balance))
    return balances


def check_ledger(session: Session) -> list[str]:
    """The ledger balance check: every violation of the ledger's invariants, as sentences; empty when sound."""
    violations = [f"transaction {tid} sums to {total}, not zero"
                  for tid, total in store.unbalanced_transactions(session)]
    violations += [f"transaction {tid} has no entries" for tid in store.transactions_without_entries(session)]
    sums = store.entry_sums(session)
    for row in store.all_accounts(session):
        expected = int(sums.get(row.id) or 0)
        if row.balance != expected:
            violations.append(f"account {row.code} has balance {row.balance} but its entries sum to {expected}")
        if row.kind not in EXTERNAL_KINDS and row.balance < 0:
            violations.append(f"account {row.code} is negative: {row.balance}")
    return violations + _escrow_violations(session)


def _escrow_violations(session: Session) -> list[str]:
    """Each order's escrow holds exactly its paid amount until released or refunded, and nothing otherwise."""
    held = store.escrow_balances(session)
    violations = []
    for payment in store.order_payments(session):
        expected = payment.amount if payment.status == SUCCESS and payment.released_at is None else 0
        actual = held.pop(payment.order_id, 0)
        if actual != expected:
            violations.append(f"escrow of order {payment.order_id} holds {actual}, expected {expected}")
    violations += [f"escrow of order {owner} holds {balance} without a payment" for owner, balance in held.items()
                   if balance]
    return violations
