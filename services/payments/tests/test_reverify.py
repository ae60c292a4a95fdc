from __future__ import annotations

import json
import uuid

from services.payments.tests.conftest import Stack


def lose_webhook(stack: Stack, reference: str) -> None:
    stack.simulator_config.webhook_url = "http://127.0.0.1:9/unreachable"
    assert stack.complete(reference)["webhook_status"] == 0
    stack.simulator_config.webhook_url = stack.webhook_url


def test_a_lost_webhook_is_settled_once_by_reading_the_payment(stack: Stack) -> None:
    user = stack.user()
    reference = user.topup(60_000)["reference"]
    lose_webhook(stack, reference)
    assert user.balance() == 0
    first = user.get(f"/api/v1/payments/{reference}").json()
    second = user.get(f"/api/v1/payments/{reference}").json()
    assert first["status"] == second["status"] == "success"
    assert user.balance() == 60_000
    assert stack.replay(reference) == 200  # the webhook arriving late changes nothing
    assert user.balance() == 60_000
    assert stack.run_cli("reverify-payments", "--older-than", "0")
    assert user.balance() == 60_000


def test_a_lost_webhook_is_settled_once_by_reverify_payments(stack: Stack) -> None:
    user = stack.user()
    paid = user.topup(70_000)["reference"]
    unpaid = user.topup(5_000)["reference"]
    lose_webhook(stack, paid)
    assert json.loads(stack.run_cli("reverify-payments", "--older-than", "3600"))["payments_checked"] == 0
    report = json.loads(stack.run_cli("reverify-payments", "--older-than", "0"))
    assert report["payments_checked"] == 2
    assert user.balance() == 70_000
    stack.run_cli("reverify-payments", "--older-than", "0")
    assert user.balance() == 70_000
    assert user.get(f"/api/v1/payments/{unpaid}").json()["status"] == "pending"
    assert user.get(f"/api/v1/payments/{paid}").json()["status"] == "success"


def test_unpaid_checkouts_are_abandoned_only_after_the_configured_age(stack: Stack) -> None:
    user = stack.user()
    reference = user.topup(5_000)["reference"]
    stack.run_cli("reverify-payments", "--older-than", "0")
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "pending"
    stack.settings.payment_abandon_after_seconds = 0
    try:
        stack.run_cli("reverify-payments", "--older-than", "0")
    finally:
        stack.settings.payment_abandon_after_seconds = 24 * 3600
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "abandoned"


def test_an_order_payment_reaches_the_orders_service_through_the_outbox(stack: Stack) -> None:
    buyer, order_id = stack.user(), uuid.uuid4()
    created = stack.pay_order(buyer, 80_000, "paystack", order_id).json()
    assert created["status"] == "pending" and created["authorization_url"]
    assert stack.complete(created["reference"])["webhook_status"] == 200
    assert stack.orders.for_order(order_id) == [{"order_id": str(order_id), "event": "payment.succeeded",
                                                 "reference": created["reference"], "amount": 80_000,
                                                 "currency": "NGN"}]
    stack.replay(created["reference"])
    stack.run_cli("reverify-payments", "--older-than", "0")
    assert len(stack.orders.for_order(order_id)) == 1


def test_an_orders_outage_loses_no_event(stack: Stack) -> None:
    buyer, order_id = stack.user(), uuid.uuid4()
    reference = stack.pay_order(buyer, 80_000, "paystack", order_id).json()["reference"]
    stack.orders.down = True
    assert stack.complete(reference)["webhook_status"] == 200  # Paystack hears "ok": the event is ours now
    assert stack.orders.for_order(order_id) == []
    stack.run_cli("reverify-payments", "--older-than", "0")
    assert stack.orders.for_order(order_id) == []
    stack.orders.down = False
    report = json.loads(stack.run_cli("reverify-payments", "--older-than", "0"))
    assert report["events_delivered"] == 1
    assert [event["event"] for event in stack.orders.for_order(order_id)] == ["payment.succeeded"]
    stack.run_cli("reverify-payments", "--older-than", "0")
    assert len(stack.orders.for_order(order_id)) == 1


def test_a_payment_for_an_order_cancelled_meanwhile_is_refunded(stack: Stack) -> None:
    buyer, order_id = stack.user(), uuid.uuid4()
    reference = stack.pay_order(buyer, 90_000, "paystack", order_id).json()["reference"]
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


def test_a_declined_order_payment_tells_the_orders_service(stack: Stack) -> None:
    buyer, order_id = stack.user(), uuid.uuid4()
    reference = stack.pay_order(buyer, 10_000, "paystack", order_id).json()["reference"]
    stack.complete(reference, "failed")
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "failed"
    assert [event["event"] for event in stack.orders.for_order(order_id)] == ["payment.failed"]

