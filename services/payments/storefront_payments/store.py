"""Every SQL statement of the payments service, as functions named for what they read or change.

The domain modules decide what happens and when to commit; these functions say how it is stored. A
conditional UPDATE here is how a race is decided: its row count tells the caller whether it won.
"""
from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (BigInteger, ColumnElement, Row, Update, Uuid, bindparam, case, func, insert, or_, select,
                        update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storefront_common.db import insert_on_conflict
from storefront_common.pagination import PageQuery, paginate
from storefront_common.timeutil import utcnow

from .models import (ESCROW, EXTERNAL_KINDS, NO_REFUND, PAYOUT_PENDING, PENDING, REFUND_FAILED, REFUND_PENDING,
                     REFUNDED, SUCCESS, Account, Entry, LedgerTransaction, OutboxMessage, Payment, PaymentSplit,
                     Payout, PayoutAccount, WebhookEvent)

Model = TypeVar("Model")


def add(session: Session, row: Model) -> Model:
    session.add(row)
    return row


def remove(session: Session, row: object) -> None:
    session.delete(row)


def reload(session: Session, row: Model) -> Model:
    session.refresh(row)
    return row


def _update(session: Session, model: type, *where: ColumnElement[bool], **values: Any) -> bool:
    """One UPDATE of the rows matching `where`; True when exactly one row changed."""
    result = session.execute(update(model).where(*where).values(**values)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


# --- ledger ---------------------------------------------------------------------------------------------
# Postings run on the hot checkout path, so they use Core statements: one SELECT ... FOR UPDATE for every
# account involved, an INSERT only for accounts used for the first time, one UPDATE for all balances and
# one INSERT for all entries.

ACCOUNTS, TRANSACTIONS, ENTRIES = Account.__table__, LedgerTransaction.__table__, Entry.__table__
LOCKED_NAMES = ("id", "code", "kind", "balance")
LOCKED_COLUMNS = tuple(ACCOUNTS.c[name] for name in LOCKED_NAMES)
# Postings run on every checkout, so their statements are built once: building one and deriving its cache
# key cost more CPU than SQLAlchemy's execution of it.
LOCK_BY_CODES = (select(*LOCKED_COLUMNS).where(ACCOUNTS.c.code.in_(bindparam("codes", expanding=True)))
                 .order_by(ACCOUNTS.c.id).with_for_update())
INSERT_TRANSACTION = insert(TRANSACTIONS)
INSERT_ENTRIES = insert(ENTRIES)


def account_balance(session: Session, code: str) -> int:
    return int(session.scalar(select(Account.balance).where(Account.code == code)) or 0)


def account_id(session: Session, code: str) -> uuid.UUID | None:
    return session.scalar(select(Account.id).where(Account.code == code))


def lock_accounts(session: Session, codes: list[str]) -> list[Row[Any]]:
    """The existing accounts (id, code, kind, balance) locked in id order, so concurrent postings queue."""
    return list(session.execute(LOCK_BY_CODES, {"codes": codes}).all())


def create_account(session: Session, code: str, kind: str, owner_id: uuid.UUID | None, currency: str,
                   now: datetime) -> list[Row[Any]]:
    """The new account as locked columns; none when a concurrent posting created it first (after its commit)."""
    values = {"id": uuid.uuid4(), "code": code, "kind": kind, "owner_id": owner_id, "currency": currency,
              "balance": 0, "created_at": now}
    return list(session.execute(insert_on_conflict(ACCOUNTS, tuple(values), returning=LOCKED_NAMES), values).all())


def change_balances(session: Session, deltas: list[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, int]:
    """Every balance change in one conditional UPDATE; the new balances by account id, without the accounts
    that hold real money and would go below zero."""
    parameters: dict[str, Any] = {"ids": [account for account, _ in deltas]}
    for index, (account, delta) in enumerate(deltas):
        parameters[f"id_{index}"], parameters[f"delta_{index}"] = account, delta
    rows = session.execute(_balance_update(len(deltas)), parameters).all()
    return {account: int(balance) for account, balance in rows}


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


def record_transaction(session: Session, kind: str, reference: str, order_id: uuid.UUID | None,
                       entries: list[tuple[uuid.UUID, int, int]]) -> uuid.UUID:
    """The transaction and its (account id, amount, balance after) entries, in two INSERTs."""
    transaction_id, now = uuid.uuid4(), utcnow()
    session.execute(INSERT_TRANSACTION, {"id": transaction_id, "kind": kind, "reference": reference,
                                         "order_id": order_id, "created_at": now})
    session.execute(INSERT_ENTRIES, [
        {"id": uuid.uuid4(), "transaction_id": transaction_id, "account_id": account, "amount": amount,
         "balance_after": balance, "created_at": now} for account, amount, balance in entries])
    return transaction_id


def wallet_history(session: Session, account: uuid.UUID, query: PageQuery,
                   serialize: Callable[[Entry], dict[str, Any]]) -> dict[str, Any]:
    """One page of the account's entries (with their transactions), newest first."""
    statement = (select(Entry).where(Entry.account_id == account).options(selectinload(Entry.transaction))
                 .order_by(Entry.created_at.desc(), Entry.id.desc()))
    return paginate(session, statement, query, serialize)


# What the ledger balance check reads.

def unbalanced_transactions(session: Session) -> list[tuple[uuid.UUID, int]]:
    return [(transaction, total) for transaction, total in session.execute(
        select(Entry.transaction_id, func.sum(Entry.amount)).group_by(Entry.transaction_id)
        .having(func.sum(Entry.amount) != 0)).all()]


def transactions_without_entries(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(LedgerTransaction.id).where(~LedgerTransaction.entries.any())).all())


def entry_sums(session: Session) -> dict[uuid.UUID, int]:
    """What each account's entries add up to, by account id."""
    return dict(session.execute(select(Entry.account_id, func.sum(Entry.amount)).group_by(Entry.account_id)).all())


def all_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account)).all())


def escrow_balances(session: Session) -> dict[uuid.UUID, int]:
    """What each order's escrow account holds, by order id."""
    return {owner: balance for owner, balance in session.execute(
        select(Account.owner_id, Account.balance).where(Account.kind == ESCROW)).all()}


def order_payments(session: Session) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.order_id.is_not(None))).all())


# --- payments -------------------------------------------------------------------------------------------

PAYMENTS, SPLITS = Payment.__table__, PaymentSplit.__table__
INSERT_SPLITS = insert(SPLITS)


def payment_by_reference(session: Session, reference: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.reference == reference))


def payment_by_order(session: Session, order_id: uuid.UUID) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.order_id == order_id))


def payment(session: Session, payment_id: uuid.UUID) -> Payment:
    return session.get_one(Payment, payment_id)


def insert_order_payment(session: Session, row: dict[str, Any], splits: list[tuple[uuid.UUID, int]]) -> bool:
    """Insert the payment and its (vendor id, amount) splits; False, inserting nothing, when its order (or
    reference) has one already."""
    if session.execute(insert_on_conflict(PAYMENTS, tuple(row), returning=("id",)), row).first() is None:
        return False
    if splits:
        session.execute(INSERT_SPLITS, [{"id": uuid.uuid4(), "payment_id": row["id"], "vendor_id": vendor_id,
                                          "amount": part} for vendor_id, part in splits])
    return True


def lock_payment_without_checkout(session: Session, payment_id: uuid.UUID) -> Payment | None:
    """The payment, locked, if it still has no checkout link."""
    return session.scalar(select(Payment).where(Payment.id == payment_id, Payment.authorization_url.is_(None))
                          .with_for_update())


def move_payment_status(session: Session, payment: Payment, to: str, from_statuses: tuple[str, ...],
                        **values: Any) -> bool:
    """Move the payment's status only if it is still in one of `from_statuses`: exactly one caller wins."""
    moved = _update(session, Payment, Payment.id == payment.id, Payment.status.in_(from_statuses),
                    status=to, updated_at=utcnow(), **values)
    session.expire(payment)
    return moved


def claim_release(session: Session, payment: Payment) -> bool:
    """Mark a paid payment as released, unless it was released or is being refunded meanwhile."""
    claimed = _update(session, Payment, Payment.id == payment.id, Payment.status == SUCCESS,
                      Payment.released_at.is_(None), Payment.refund_state != REFUND_PENDING,
                      released_at=utcnow(), updated_at=utcnow())
    session.expire(payment)
    return claimed


def save_release_result(session: Session, payment_id: uuid.UUID, result: dict[str, Any]) -> None:
    _update(session, Payment, Payment.id == payment_id, release_result=result)


def escrow_pending_for(session: Session, vendor_id: uuid.UUID) -> int:
    """The vendor's splits of paid payments that are neither released nor being refunded."""
    total = session.scalar(
        select(func.coalesce(func.sum(PaymentSplit.amount), 0)).join(Payment)
        .where(PaymentSplit.vendor_id == vendor_id, Payment.status == SUCCESS, Payment.released_at.is_(None),
               Payment.refund_state != REFUND_PENDING))
    return int(total or 0)


def claim_refund(session: Session, payment: Payment, **values: Any) -> bool:
    """Mark the payment as being refunded, unless it was released or refunded meanwhile."""
    claimed = _update(session, Payment, Payment.id == payment.id, Payment.status == SUCCESS,
                      Payment.released_at.is_(None), Payment.refund_state.in_((NO_REFUND, REFUND_FAILED)),
                      updated_at=utcnow(), **values)
    session.expire(payment)
    return claimed


def reopen_refund(session: Session, payment_id: uuid.UUID) -> None:
    """Paystack did not take the refund: it may be asked again."""
    _update(session, Payment, Payment.id == payment_id, Payment.refund_state == REFUND_PENDING,
            refund_state=NO_REFUND)


def mark_refunded(session: Session, payment: Payment) -> bool:
    """The refund went through, unless the escrow was released meanwhile."""
    refunded = _update(session, Payment, Payment.id == payment.id, Payment.status == SUCCESS,
                       Payment.released_at.is_(None), status=REFUNDED, refund_state=NO_REFUND, updated_at=utcnow())
    session.expire(payment)
    return refunded


def mark_refund_failed(session: Session, payment_id: uuid.UUID) -> None:
    _update(session, Payment, Payment.id == payment_id, Payment.refund_state == REFUND_PENDING,
            refund_state=REFUND_FAILED, updated_at=utcnow())


def payments_to_reverify(session: Session, method: str, created_before: datetime, limit: int) -> list[Payment]:
    """Pending payments with a checkout link, oldest first."""
    return list(session.scalars(
        select(Payment).where(Payment.status == PENDING, Payment.method == method,
                              Payment.authorization_url.is_not(None), Payment.created_at <= created_before)
        .order_by(Payment.created_at).limit(limit)).all())


def refunds_to_reverify(session: Session, asked_before: datetime, limit: int) -> list[Payment]:
    """Payments whose refund is pending, longest waiting first."""
    return list(session.scalars(
        select(Payment).where(Payment.status == SUCCESS, Payment.refund_state == REFUND_PENDING,
                              Payment.updated_at <= asked_before).order_by(Payment.updated_at).limit(limit)).all())


# --- payouts --------------------------------------------------------------------------------------------

def payout_account(session: Session, user_id: uuid.UUID) -> PayoutAccount | None:
    return session.get(PayoutAccount, user_id)


def payout_by_reference(session: Session, reference: str) -> Payout | None:
    return session.scalar(select(Payout).where(Payout.reference == reference))


def save_transfer_code(session: Session, reference: str, transfer_code: str | None) -> None:
    _update(session, Payout, Payout.reference == reference, transfer_code=transfer_code)


def move_payout_status(session: Session, payout: Payout, to: str, from_statuses: tuple[str, ...],
                       reason: str | None) -> bool:
    """Move the payout's status only if it is still in one of `from_statuses`: exactly one caller wins."""
    moved = _update(session, Payout, Payout.id == payout.id, Payout.status.in_(from_statuses),
                    status=to, updated_at=utcnow(), failure_reason=reason[:200] if reason else None)
    session.expire(payout)
    return moved


def payouts_to_reverify(session: Session, created_before: datetime, limit: int) -> list[Payout]:
    return list(session.scalars(
        select(Payout).where(Payout.status == PAYOUT_PENDING, Payout.created_at <= created_before)
        .order_by(Payout.created_at).limit(limit)).all())


# --- outbox and webhook events --------------------------------------------------------------------------

def queue_message(session: Session, key: str, order_id: uuid.UUID, payload: dict[str, Any]) -> OutboxMessage:
    """The message under `key`, added (and flushed, for its id) unless it is queued already."""
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    message = add(session, OutboxMessage(key=key, order_id=order_id, payload=payload))
    session.flush()
    return message


def undelivered_message_ids(session: Session, limit: int) -> list[uuid.UUID]:
    return list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.delivered_at.is_(None))
                                .order_by(OutboxMessage.created_at).limit(limit)).all())


def lease_message(session: Session, message_id: uuid.UUID, now: datetime, until: datetime) -> bool:
    """Lease an undelivered message nobody holds (or whose lease ran out) until `until`, counting the attempt."""
    return _update(session, OutboxMessage, OutboxMessage.id == message_id, OutboxMessage.delivered_at.is_(None),
                   or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                   locked_until=until, attempts=OutboxMessage.attempts + 1)


def message(session: Session, message_id: uuid.UUID) -> OutboxMessage | None:
    """The message as the database has it now."""
    return session.get(OutboxMessage, message_id, populate_existing=True)


def record_webhook_event(session: Session, key: str, event: str) -> bool:
    """Insert the event's de-duplication row; False (rolled back) when a copy of the event has it already.

    A concurrent copy waits on the row's unique key and then finds it taken, so only one copy goes on."""
    add(session, WebhookEvent(key=key, event=event))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True
