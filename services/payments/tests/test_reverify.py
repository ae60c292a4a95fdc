from __future__ import annotations

import json
import uuid

from flask import Flask

from services.payments.tests.conftest import Stack, pay_order, run_cli, settings_of, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth


def lose_webhook(stack: Stack, reference: str) -> None:
    stack.simulator_config.webhook_url = "http://127.0.0.1:9/unreachable"
    assert stack.complete(reference)["webhook_status"] == 0
    stack.simulator_config.webhook_url = stack.webhook_url


def test_a_lost_webhook_is_settled_once_by_reading_the_payment(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    reference = user.topup(60_000)["reference"]
    lose_webhook(stack, reference)
    assert user.balance() == 0
    first = user.get(f"/api/v1/payments/{reference}").json()
    second = user.get(f"/api/v1/payments/{reference}").json()
    assert first["status"] == second["status"] == "success"
    assert user.balance() == 60_000
    assert stack.replay(reference) == 200  # the webhook arriving late changes nothing
    assert user.balance() == 60_000
    assert run_cli(app, "reverify-payments", "--older-than", "0")
    assert user.balance() == 60_000


def test_a_lost_webhook_is_settled_once_by_reverify_payments(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    paid = user.topup(70_000)["reference"]
    unpaid = user.topup(5_000)["reference"]
    lose_webhook(stack, paid)
    assert json.loads(run_cli(app, "reverify-payments", "--older-than", "3600"))["payments_checked"] == 0
    report = json.loads(run_cli(app, "reverify-payments", "--older-than", "0"))
    assert report["payments_checked"] == 2
    assert user.balance() == 70_000
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert user.balance() == 70_000
    assert user.get(f"/api/v1/payments/{unpaid}").json()["status"] == "pending"
    assert user.get(f"/api/v1/payments/{paid}").json()["status"] == "success"


def test_unpaid_checkouts_are_abandoned_only_after_the_configured_age(app: Flask, client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    reference = user.topup(5_000)["reference"]
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "pending"
    settings_of(app).payment_abandon_after_seconds = 0
    try:
        run_cli(app, "reverify-payments", "--older-than", "0")
    finally:
        settings_of(app).payment_abandon_after_seconds = 24 * 3600
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "abandoned"


def test_an_order_payment_reaches_the_orders_service_through_the_outbox(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    created = pay_order(client, auth, buyer, 80_000, "paystack", order_id).json()
    assert created["status"] == "pending" and created["authorization_url"]
    assert stack.complete(created["reference"])["webhook_status"] == 200
    assert stack.orders.for_order(order_id) == [{"order_id": str(order_id), "event": "payment.succeeded",
                                                 "reference": created["reference"], "amount": 80_000,
                                                 "currency": "NGN"}]
    stack.replay(created["reference"])
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert len(stack.orders.for_order(order_id)) == 1


def test_an_orders_outage_loses_no_event(app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    reference = pay_order(client, auth, buyer, 80_000, "paystack", order_id).json()["reference"]
    stack.orders.down = True
    assert stack.complete(reference)["webhook_status"] == 200  # Paystack hears "ok": the event is ours now
    assert stack.orders.for_order(order_id) == []
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert stack.orders.for_order(order_id) == []
    stack.orders.down = False
    report = json.loads(run_cli(app, "reverify-payments", "--older-than", "0"))
    assert report["events_delivered"] == 1
    assert [event["event"] for event in stack.orders.for_order(order_id)] == ["payment.succeeded"]
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert len(stack.orders.for_order(order_id)) == 1


def test_a_payment_for_an_order_cancelled_meanwhile_is_refunded(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    reference = pay_order(client, auth, buyer, 90_000, "paystack", order_id).json()["reference"]
    stack.orders.refuse.add(str(order_id))
    assert stack.complete(reference)["webhook_status"] == 200
    [refund] = stack.simulator_state()["refunds"]
    assert refund["amount"] == 90_000
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "success"
    settled = stack.simulator_url + f"/_simulator/refunds/{refund['id']}/complete"
    import requests

    assert requests.post(settled, json={"outcome": "processed"}, timeout=15).json()["webhook_status"] == 200
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "refunded"
    events = [event["event"] for event in stack.orders.for_order(order_id)]
    assert events == ["payment.succeeded", "payment.refunded"]


def test_a_declined_order_payment_tells_the_orders_service(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    reference = pay_order(client, auth, buyer, 10_000, "paystack", order_id).json()["reference"]
    stack.complete(reference, "failed")
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "failed"
    assert [event["event"] for event in stack.orders.for_order(order_id)] == ["payment.failed"]

