"""The double-entry ledger: accounts, balanced postings, and the check that everything adds up.

Every movement of money is one `LedgerTransaction` whose entries sum to zero. Balances live on the account
rows and are changed only by `post`, with conditional UPDATEs under row locks taken in id order, so two
postings never deadlock and a wallet never goes below zero; the CHECK constraint on `accounts` is the last
line of defence should any code path forget.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storefront_common.timeutil import utcnow

from .models import (ESCROW, EXTERNAL_KINDS, PAYOUTS, PAYOUTS_IN_FLIGHT, PAYSTACK_CLEARING, PLATFORM_FEES, SUCCESS,
                     WALLET, Account, Entry, LedgerTransaction, Payment)

# Kinds of ledger transactions; the wallet history shows them as they are.
TOPUP, PAYMENT, REFUND, ESCROW_RELEASE, PAYOUT, PAYOUT_REVERSAL, FEE = (
    "topup", "payment", "refund", "escrow_release", "payout", "payout_reversal", "fee")
SYSTEM_KINDS = (PAYSTACK_CLEARING, PAYOUTS_IN_FLIGHT, PAYOUTS, PLATFORM_FEES)

Leg = tuple[Account, int]


class InsufficientFunds(Exception):
    """A posting would take an account that holds real money below zero; nothing was changed."""

    def __init__(self, account: Account) -> None:
        super().__init__(account.code)
        self.account = account


def account_code(kind: str, currency: str, owner_id: uuid.UUID | None = None) -> str:
    return f"{kind}:{currency}" if owner_id is None else f"{kind}:{owner_id}:{currency}"


def account(session: Session, kind: str, currency: str, owner_id: uuid.UUID | None = None) -> Account:
    """The account, created on first use (concurrent creators agree on one row)."""
    code = account_code(kind, currency, owner_id)
    found = session.scalar(select(Account).where(Account.code == code))
    if found is not None:
        return found
    values = {"id": uuid.uuid4(), "code": code, "kind": kind, "owner_id": owner_id, "currency": currency,
              "balance": 0, "created_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Account).values(**values).on_conflict_do_nothing(index_elements=["code"]))
    return session.scalars(select(Account).where(Account.code == code)).one()


def wallet(session: Session, user_id: uuid.UUID, currency: str) -> Account:
    return account(session, WALLET, currency, user_id)


def balance_of(session: Session, kind: str, currency: str, owner_id: uuid.UUID | None = None) -> int:
    value = session.scalar(select(Account.balance).where(Account.code == account_code(kind, currency, owner_id)))
    return int(value or 0)


def post(session: Session, kind: str, reference: str, legs: Sequence[Leg],
         order_id: uuid.UUID | None = None) -> LedgerTransaction:
    """Record one balanced transaction; raises InsufficientFunds (the caller rolls back) instead of overdrawing."""
    merged: dict[uuid.UUID, int] = defaultdict(int)
    accounts = {}
    for leg_account, amount in legs:
        merged[leg_account.id] += amount
        accounts[leg_account.id] = leg_account
    if sum(merged.values()) != 0:
        raise ValueError("a ledger transaction must sum to zero")
    # Lock every account involved in one consistent order first: concurrent postings queue, never deadlock.
    session.execute(select(Account.id).where(Account.id.in_(sorted(merged))).order_by(Account.id).with_for_update())
    transaction = LedgerTransaction(kind=kind, reference=reference, order_id=order_id, created_at=utcnow())
    session.add(transaction)
    for account_id in sorted(merged):
        amount = merged[account_id]
        new_balance = _apply(session, accounts[account_id], amount)
        transaction.entries.append(Entry(account_id=account_id, amount=amount, balance_after=new_balance,
                                         created_at=transaction.created_at))
    session.flush()
    return transaction


def _apply(session: Session, target: Account, amount: int) -> int:
    statement = update(Account).where(Account.id == target.id).values(balance=Account.balance + amount)
    if target.kind not in EXTERNAL_KINDS:
        statement = statement.where(Account.balance + amount >= 0)
    statement = statement.returning(Account.balance).execution_options(synchronize_session=False)
    new_balance = session.execute(statement).scalar_one_or_none()
    if new_balance is None:
        raise InsufficientFunds(target)
    session.expire(target, ["balance"])
    return int(new_balance)


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
