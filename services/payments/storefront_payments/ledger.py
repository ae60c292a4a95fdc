"""The double-entry ledger: accounts, balanced postings, and the check that everything adds up.

Every movement of money is one `LedgerTransaction` whose entries sum to zero. Balances live on the account
rows and are changed only by `post`, with one conditional UPDATE under row locks taken in id order, so two
postings never deadlock and a wallet never goes below zero; the CHECK constraint on `accounts` is the last
line of defence should any code path forget. Postings run on the hot checkout path, so they use Core
statements: one SELECT ... FOR UPDATE for every account involved, an INSERT only for accounts used for the
first time, one UPDATE for all balances and one INSERT for all entries.
"""
from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Row, Update, Uuid, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storefront_common.db import insert_on_conflict
from storefront_common.timeutil import utcnow

from .models import (ESCROW, EXTERNAL_KINDS, PAYOUTS, PAYOUTS_IN_FLIGHT, PAYSTACK_CLEARING, PLATFORM_FEES, SUCCESS,
                     Account, Entry, LedgerTransaction, Payment)

# Kinds of ledger transactions; the wallet history shows them as they are.
TOPUP, PAYMENT, REFUND, ESCROW_RELEASE, PAYOUT, PAYOUT_REVERSAL, FEE = (
    "topup", "payment", "refund", "escrow_release", "payout", "payout_reversal", "fee")
SYSTEM_KINDS = (PAYSTACK_CLEARING, PAYOUTS_IN_FLIGHT, PAYOUTS, PLATFORM_FEES)

ACCOUNTS, TRANSACTIONS, ENTRIES = Account.__table__, LedgerTransaction.__table__, Entry.__table__
LOCKED_NAMES = ("id", "code", "kind", "balance")
LOCKED_COLUMNS = tuple(ACCOUNTS.c[name] for name in LOCKED_NAMES)
# Postings run on every checkout, so their statements are built once: building one and deriving its cache
# key cost more CPU than SQLAlchemy's execution of it.
LOCK_BY_CODES = (select(*LOCKED_COLUMNS).where(ACCOUNTS.c.code.in_(bindparam("codes", expanding=True)))
                 .order_by(ACCOUNTS.c.id).with_for_update())
INSERT_TRANSACTION = insert(TRANSACTIONS)
INSERT_ENTRIES = insert(ENTRIES)


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
    value = session.scalar(select(Account.balance).where(Account.code == account_code(kind, currency, owner_id)))
    return int(value or 0)


def lock_accounts(session: Session, refs: Iterable[AccountRef]) -> list[Row[Any]]:
    """Lock the accounts (id, code, kind, balance), creating the missing ones; sorted by id.

    Existing rows are locked in id order, so concurrent postings queue and never deadlock. A row created here
    is invisible to everyone else until commit, so it needs no lock of its own.
    """
    wanted = {ref.code: ref for ref in refs}
    rows = _select_for_update(session, list(wanted))
    found = {row.code for row in rows}
    missing = [ref for code, ref in wanted.items() if code not in found]
    if missing:
        rows += _create(session, missing)
    return sorted(rows, key=lambda row: row.id)


def _select_for_update(session: Session, codes: list[str]) -> list[Row[Any]]:
    return list(session.execute(LOCK_BY_CODES, {"codes": codes}).all())


def _create(session: Session, refs: list[AccountRef]) -> list[Row[Any]]:
    now, created = utcnow(), []
    for ref in refs:  # one INSERT each: on the checkout path the only new account is the order's escrow
        values = {"id": uuid.uuid4(), "code": ref.code, "kind": ref.kind, "owner_id": ref.owner_id,
                  "currency": ref.currency, "balance": 0, "created_at": now}
        created += session.execute(insert_on_conflict(ACCOUNTS, tuple(values), returning=LOCKED_NAMES), values).all()
    # A concurrent posting created some first (our INSERT waited for its commit): lock those as they are now.
    lost = {ref.code for ref in refs} - {row.code for row in created}
    return created + (_select_for_update(session, sorted(lost)) if lost else [])


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
    return _record(session, kind, reference, order_id,
                   [(row.id, changes[row.code], balances[row.id]) for row in accounts])


def _apply(session: Session, accounts: list[Row[Any]], changes: dict[str, int]) -> dict[uuid.UUID, int]:
    """Every balance change in one conditional UPDATE; the new balances by account id."""
    parameters: dict[str, Any] = {"ids": [row.id for row in accounts]}
    for index, row in enumerate(accounts):
        parameters[f"id_{index}"], parameters[f"delta_{index}"] = row.id, changes[row.code]
    rows = session.execute(_balance_update(len(accounts)), parameters).all()
    balances = {account_id: int(balance) for account_id, balance in rows}
    for row in accounts:
        if row.id not in balances:
            raise InsufficientFunds(row.code, int(row.balance))
    return balances


@functools.lru_cache(maxsize=16)
def _balance_update(account_count: int) -> Update:
    """UPDATE of `account_count` balances by (id_i, delta_i); an account that holds real money is left out
    (and so missing from RETURNING) when its change would take it below zero."""
    delta = case(*((ACCOUNTS.c.id == bindparam(f"id_{index}", type_=Uuid),
                    bindparam(f"delta_{index}", type_=BigInteger)) for index in range(account_count)))
    return (update(ACCOUNTS)
            .where(ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)),
                   or_(ACCOUNTS.c.kind.in_(EXTERNAL_KINDS), ACCOUNTS.c.balance + delta >= 0))
            .values(balance=ACCOUNTS.c.balance + delta)
            .returning(ACCOUNTS.c.id, ACCOUNTS.c.balance))


def _record(session: Session, kind: str, reference: str, order_id: uuid.UUID | None,
            entries: list[tuple[uuid.UUID, int, int]]) -> uuid.UUID:
    transaction_id, now = uuid.uuid4(), utcnow()
    session.execute(INSERT_TRANSACTION, {"id": transaction_id, "kind": kind, "reference": reference,
                                         "order_id": order_id, "created_at": now})
    session.execute(INSERT_ENTRIES, [
        {"id": uuid.uuid4(), "transaction_id": transaction_id, "account_id": account_id, "amount": amount,
         "balance_after": balance, "created_at": now} for account_id, amount, balance in entries])
    return transaction_id


def check_ledger(session: Session) -> list[str]:
    """Every violation of the ledger's invariants, as sentences; empty when the books are sound."""
    violations = []
    unbalanced = session.execute(
        select(Entry.transaction_id, func.sum(Entry.amount)).group_by(Entry.transaction_id)
        .having(func.sum(Entry.amount) != 0)).all()
    violations += [f"transaction {tid} sums to {total}, not zero" for tid, total in unbalanced]
    empty = session.scalars(select(LedgerTransaction.id).where(~LedgerTransaction.entries.any())).all()
    violations += [f"transaction {tid} has no entries" for tid in empty]
    sums = dict(session.execute(select(Entry.account_id, func.sum(Entry.amount)).group_by(Entry.account_id)).all())
    for row in session.scalars(select(Account)).all():
        expected = int(sums.get(row.id) or 0)
        if row.balance != expected:
            violations.append(f"account {row.code} has balance {row.balance} but its entries sum to {expected}")
        if row.kind not in EXTERNAL_KINDS and row.balance < 0:
            violations.append(f"account {row.code} is negative: {row.balance}")
    return violations + _escrow_violations(session)


def _escrow_violations(session: Session) -> list[str]:
    """Each order's escrow holds exactly its paid amount until released or refunded, and nothing otherwise."""
    held = {owner: balance for owner, balance in session.execute(
        select(Account.owner_id, Account.balance).where(Account.kind == ESCROW)).all()}
    violations = []
    for payment in session.scalars(select(Payment).where(Payment.order_id.is_not(None))).all():
        expected = payment.amount if payment.status == SUCCESS and payment.released_at is None else 0
        actual = held.pop(payment.order_id, 0)
        if actual != expected:
            violations.append(f"escrow of order {payment.order_id} holds {actual}, expected {expected}")
    violations += [f"escrow of order {owner} holds {balance} without a payment" for owner, balance in held.items()
                   if balance]
    return violations
