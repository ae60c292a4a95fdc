from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from conftest import Stack
from storefront_payments import ledger
from storefront_payments.extensions import db
from storefront_payments.models import PAYSTACK_CLEARING, Account


def test_postings_balance_and_never_overdraw(stack: Stack) -> None:
    with stack.app.app_context():
        session = db.session
        wallet = ledger.wallet(session, uuid.uuid4(), "NGN")
        clearing = ledger.account(session, PAYSTACK_CLEARING, "NGN")
        with pytest.raises(ValueError):
            ledger.post(session, ledger.TOPUP, "ref", [(clearing, -5), (wallet, 4)])
        ledger.post(session, ledger.TOPUP, "ref", [(clearing, -500), (wallet, 500)])
        session.commit()
        with pytest.raises(ledger.InsufficientFunds):
            ledger.post(session, ledger.PAYMENT, "ref2", [(wallet, -501), (clearing, 501)])
        session.rollback()
        assert ledger.balance_of(session, "wallet", "NGN", wallet.owner_id) == 500
        assert ledger.check_ledger(session) == []


def test_the_database_refuses_a_negative_wallet_even_behind_the_ledgers_back(stack: Stack) -> None:
    with stack.app.app_context():
        wallet = ledger.wallet(db.session, uuid.uuid4(), "NGN")
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(update(Account).where(Account.id == wallet.id).values(balance=-1))
            db.session.flush()
        db.session.rollback()


def test_check_ledger_reports_a_balance_unlike_its_entries(stack: Stack) -> None:
    with stack.app.app_context():
        session = db.session
        wallet = ledger.wallet(session, uuid.uuid4(), "NGN")
        clearing = ledger.account(session, PAYSTACK_CLEARING, "NGN")
        ledger.post(session, ledger.TOPUP, "ref", [(clearing, -100), (wallet, 100)])
        session.commit()
        session.execute(update(Account).where(Account.id == wallet.id).values(balance=101))
        [violation] = ledger.check_ledger(session)
        assert "balance 101 but its entries sum to 100" in violation
        session.rollback()
        assert ledger.check_ledger(session) == []
