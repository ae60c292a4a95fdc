from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from services.payments.tests.conftest import Stack, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth
from storefront_payments import ledger
from storefront_payments.dependencies import db
from storefront_payments.models import PAYSTACK_CLEARING, WALLET, Account


def test_postings_balance_and_never_overdraw(app: Flask) -> None:
    with app.app_context():
        session = db.session
        wallet = ledger.AccountRef(WALLET, "NGN", uuid.uuid4())
        clearing = ledger.AccountRef(PAYSTACK_CLEARING, "NGN")
        with pytest.raises(ValueError):
            ledger.post(session, ledger.TOPUP, "ref", [(clearing, -5), (wallet, 4)])
        ledger.post(session, ledger.TOPUP, "ref", [(clearing, -500), (wallet, 500)])
        session.commit()
        with pytest.raises(ledger.InsufficientFunds) as refused:
            ledger.post(session, ledger.PAYMENT, "ref2", [(wallet, -501), (clearing, 501)])
        assert (refused.value.code, refused.value.balance) == (wallet.code, 500)
        session.rollback()
        assert ledger.balance_of(session, WALLET, "NGN", wallet.owner_id) == 500
        assert ledger.check_ledger(session) == []


def test_an_account_created_by_two_postings_at_once_is_one_row(app: Flask) -> None:
    wallet = ledger.AccountRef(WALLET, "NGN", uuid.uuid4())

    def lock_in_another_session() -> uuid.UUID:
        with app.app_context():
            [row] = ledger.lock_accounts(db.session, [wallet])  # its INSERT waits for the first creator
            db.session.commit()
            return row.id

    with app.app_context(), ThreadPoolExecutor(1) as pool:
        [created] = ledger.lock_accounts(db.session, [wallet])
        second = pool.submit(lock_in_another_session)
        with pytest.raises(TimeoutError):
            second.result(timeout=0.5)
        db.session.commit()
        assert second.result(timeout=10) == created.id


def test_the_database_refuses_a_negative_wallet_even_behind_the_ledgers_back(app: Flask) -> None:
    with app.app_context():
        wallet = ledger.AccountRef(WALLET, "NGN", uuid.uuid4())
        ledger.lock_accounts(db.session, [wallet])
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(update(Account).where(Account.code == wallet.code).values(balance=-1))
            db.session.flush()
        db.session.rollback()


def test_check_ledger_reports_a_balance_unlike_its_entries(app: Flask) -> None:
    with app.app_context():
        session = db.session
        wallet = ledger.AccountRef(WALLET, "NGN", uuid.uuid4())
        clearing = ledger.AccountRef(PAYSTACK_CLEARING, "NGN")
        ledger.post(session, ledger.TOPUP, "ref", [(clearing, -100), (wallet, 100)])
        session.commit()
        session.execute(update(Account).where(Account.code == wallet.code).values(balance=101))
        [violation] = ledger.check_ledger(session)
        assert "balance 101 but its entries sum to 100" in violation
        session.rollback()
        assert ledger.check_ledger(session) == []


def test_check_ledger_command_says_whether_the_books_balance(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    stack.complete(user.topup(40_000)["reference"])
    runner = app.test_cli_runner()
    sound = runner.invoke(args=["check-ledger"])
    assert sound.exit_code == 0 and json.loads(sound.output) == {"balanced": True, "violations": []}

    with app.app_context():
        db.session.execute(update(Account).where(Account.kind == WALLET).values(balance=Account.balance + 1))
        db.session.commit()
    broken = runner.invoke(args=["check-ledger"])
    assert broken.exit_code == 1
    report = json.loads(broken.output)
    assert report["balanced"] is False and "entries sum to 40000" in report["violations"][0]
    with app.app_context():
        db.session.execute(update(Account).where(Account.kind == WALLET).values(balance=Account.balance - 1))
        db.session.commit()
