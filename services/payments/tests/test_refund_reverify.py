"""Paystack refunds whose refund.processed / refund.failed webhook was lost: the re-verify job and reads past the
grace period fetch the refund (`GET /refund/{id}`) and apply it through the webhook's own path, exactly once."""
from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select, update

from services.payments.tests.conftest import Stack, User, pay_order, run_cli, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth
from storefront_common.timeutil import utcnow
from storefront_payments import ledger, reverification
from storefront_payments.dependencies import db
from storefront_payments.models import ESCROW, LedgerTransaction, Payment

AMOUNT = 25_000
REFUNDED = ("refunded", "none", 1, 0)  # (status, refund_state, refund postings, escrow balance)
FAILED = ("success", "failed", 0, AMOUNT)  # the money stays in escrow; the refund may be asked again
OUTCOMES = [("processed", REFUNDED, ["payment.succeeded", "payment.refunded"]),
            ("failed", FAILED, ["payment.succeeded"])]


@dataclass
class Refunding:
    buyer: User
    order_id: uuid.UUID
    reference: str
    refund_id: int


def refunding_order(client: HttpClient, auth: Auth, stack: Stack) -> Refunding:
    """A Paystack-paid order whose full refund Paystack has accepted and not settled yet."""
    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    reference = pay_order(client, auth, buyer, AMOUNT, "paystack", order_id).json()["reference"]
    assert stack.complete(reference)["webhook_status"] == 200
    assert ask_refund(client, auth, order_id) == "pending"
    [refund] = stack.simulator_state()["refunds"]
    return Refunding(buyer, order_id, reference, refund["id"])


def ask_refund(client: HttpClient, auth: Auth, order_id: uuid.UUID) -> str:
    response = client.post(f"/internal/payments/{order_id}/refund", headers=auth.service("orders"),
                           timeout=15)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def settle_refund(stack: Stack, refund_id: int, outcome: str) -> int:
    response = requests.post(f"{stack.simulator_url}/_simulator/refunds/{refund_id}/complete",
                             json={"outcome": outcome}, timeout=15)
    assert response.status_code == 200, response.text
    return int(response.json()["webhook_status"])


def settle_unheard(stack: Stack, refund_id: int, outcome: str) -> None:
    """Paystack settles the refund while our webhook endpoint is unreachable: the event is lost (kept for replay)."""
    stack.simulator_config.webhook_url = "http://127.0.0.1:9/unreachable"
    try:
        assert settle_refund(stack, refund_id, outcome) == 0
    finally:
        stack.simulator_config.webhook_url = stack.webhook_url


def age_refund(app: Flask, reference: str) -> None:
    """As if the refund had been asked for an hour ago, past the grace period."""
    with app.app_context():
        db.session.execute(update(Payment).where(Payment.reference == reference)
                           .values(updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()


def books(app: Flask, refunding: Refunding) -> tuple[str, str, int, int]:
    """(status, refund_state, refund postings, escrow balance) of the order's payment."""
    with app.app_context():
        payment = db.session.scalars(select(Payment).where(Payment.reference == refunding.reference)).one()
        postings = db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.reference == refunding.reference, LedgerTransaction.kind == ledger.REFUND))
        escrow = ledger.balance_of(db.session, ESCROW, "NGN", refunding.order_id)
        return payment.status, payment.refund_state, int(postings or 0), escrow


def events(stack: Stack, refunding: Refunding) -> list[str]:
    return [event["event"] for event in stack.orders.for_order(refunding.order_id)]


def reverify(app: Flask, older_than: int = 0) -> dict[str, Any]:
    return json.loads(run_cli(app, "reverify-payments", "--older-than", str(older_than)))


def public_status(refunding: Refunding) -> str:
    response = refunding.buyer.get(f"/api/v1/payments/{refunding.reference}")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def test_a_lost_refund_processed_is_applied_once_by_reverify_payments(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    refunding = refunding_order(client, auth, stack)
    assert reverify(app)["refunds_checked"] == 1  # Paystack still says pending: nothing changes
    assert books(app, refunding) == ("success", "pending", 0, AMOUNT)
    settle_unheard(stack, refunding.refund_id, "processed")
    assert reverify(app, older_than=3600)["refunds_checked"] == 0  # within the grace period
    assert reverify(app)["refunds_checked"] == 1
    assert books(app, refunding) == REFUNDED
    assert reverify(app)["refunds_checked"] == 0
    assert stack.replay(refunding.reference) == 200  # the refund.processed arriving late changes nothing
    assert books(app, refunding) == REFUNDED
    assert public_status(refunding) == "refunded"
    assert events(stack, refunding) == ["payment.succeeded", "payment.refunded"]


def test_a_lost_refund_failed_is_applied_once_by_reverify_payments(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    refunding = refunding_order(client, auth, stack)
    settle_unheard(stack, refunding.refund_id, "failed")
    assert reverify(app)["refunds_checked"] == 1
    assert books(app, refunding) == FAILED
    assert reverify(app)["refunds_checked"] == 0
    assert ask_refund(client, auth, refunding.order_id) == "pending"  # asked again: a second Paystack refund
    # The first refund's refund.failed arriving late was applied already: it must not fail the second one.
    assert stack.replay(refunding.reference) == 200
    assert books(app, refunding) == ("success", "pending", 0, AMOUNT)
    second = stack.simulator_state()["refunds"][-1]["id"]
    assert second != refunding.refund_id
    assert settle_refund(stack, second, "processed") == 200
    assert books(app, refunding) == REFUNDED
    assert events(stack, refunding) == ["payment.succeeded", "payment.refunded"]


@pytest.mark.parametrize(("outcome", "expected", "expected_events"), OUTCOMES)
def test_reading_the_payment_fetches_a_refund_pending_past_the_grace_period(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack, outcome: str, expected: tuple[str, str, int, int],
        expected_events: list[str]) -> None:
    refunding = refunding_order(client, auth, stack)
    settle_unheard(stack, refunding.refund_id, outcome)
    assert public_status(refunding) == "success"  # within REVERIFY_OLDER_THAN_SECONDS: the webhook may still come
    assert books(app, refunding) == ("success", "pending", 0, AMOUNT)
    age_refund(app, refunding.reference)
    assert public_status(refunding) == expected[0]
    assert public_status(refunding) == expected[0]
    assert books(app, refunding) == expected
    assert events(stack, refunding) == expected_events


@pytest.mark.parametrize(("outcome", "expected", "expected_events"), OUTCOMES)
def test_the_webhook_reads_and_reverify_racing_for_one_refund_apply_it_once(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack, outcome: str, expected: tuple[str, str, int, int],
        expected_events: list[str]) -> None:
    refunding = refunding_order(client, auth, stack)
    settle_unheard(stack, refunding.refund_id, outcome)
    age_refund(app, refunding.reference)
    barrier = threading.Barrier(8)

    def webhook() -> int:
        barrier.wait()
        return stack.replay(refunding.reference)

    def read() -> int:
        barrier.wait()
        return refunding.buyer.get(f"/api/v1/payments/{refunding.reference}").status_code

    def job() -> int:
        with app.app_context():
            barrier.wait()
            return reverification.reverify_pending(0)["refunds_checked"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [pool.submit(work) for work in (webhook, read, webhook, read, webhook, read)]
        jobs = [pool.submit(job) for _ in range(2)]
        assert [answer.result() for answer in answers] == [200] * 6
        for done in jobs:
            done.result()  # re-raises what the job raised
    assert books(app, refunding) == expected
    assert events(stack, refunding) == expected_events
