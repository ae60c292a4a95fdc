from __future__ import annotations

import hashlib
import hmac
import json
import threading

import requests
from flask import Flask

from services.payments.tests.conftest import SECRET_KEY, WEBHOOK_PATH, Stack, User, pay_order, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth


def signed_post(client: HttpClient, body: bytes, signature: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    headers["x-paystack-signature"] = signature if signature is not None else hmac.new(
        SECRET_KEY.encode(), body, hashlib.sha512).hexdigest()
    return client.post(WEBHOOK_PATH, data=body, headers=headers, timeout=15)


def charge_event(reference: str, amount: int, currency: str = "NGN") -> bytes:
    return json.dumps({"event": "charge.success", "data": {
        "id": 1, "status": "success", "reference": reference, "amount": amount, "currency": currency}}).encode()


def undelivered_payment(client: HttpClient, auth: Auth, stack: Stack, amount: int) -> tuple[User, str]:
    """A top-up paid on the simulator whose webhook was not delivered (kept for replay)."""
    user = sign_in(client, auth)
    reference = user.topup(amount)["reference"]
    stack.simulator_config.webhook_url = None
    assert stack.complete(reference)["webhook_status"] == 0
    stack.simulator_config.webhook_url = stack.webhook_url
    return user, reference


def test_one_charge_delivered_five_times_some_concurrently_credits_once(
        client: HttpClient, auth: Auth, stack: Stack) -> None:
    user, reference = undelivered_payment(client, auth, stack, 30_000)
    statuses: list[int] = []
    barrier = threading.Barrier(3)

    def replay_together() -> None:
        barrier.wait()
        statuses.append(stack.replay(reference))

    threads = [threading.Thread(target=replay_together) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses += [stack.replay(reference), stack.replay(reference)]
    assert statuses == [200] * 5
    assert user.balance() == 30_000
    assert len(user.get("/api/v1/wallet/transactions").json()["items"]) == 1


def test_missing_or_forged_signature_is_401_and_changes_nothing(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    reference = user.topup(40_000)["reference"]
    body = charge_event(reference, 40_000)
    forged = hmac.new(b"sk_test_wrong", body, hashlib.sha512).hexdigest()
    for response in (
        client.post(WEBHOOK_PATH, data=body, headers={"Content-Type": "application/json"}, timeout=10),
        signed_post(client, body, forged),
        signed_post(client, body, ""),
        signed_post(client, body, "zz" * 64),
        signed_post(client, body + b" ", hmac.new(SECRET_KEY.encode(), body, hashlib.sha512).hexdigest()),
    ):
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/problem+json"
    assert user.balance() == 0
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "pending"


def test_a_correctly_signed_event_from_us_is_applied(client: HttpClient, auth: Auth, stack: Stack) -> None:
    # The simulator's transaction is paid, so verify-on-read would also agree; the webhook alone credits here.
    user, reference = undelivered_payment(client, auth, stack, 12_345)
    assert signed_post(client, charge_event(reference, 12_345)).status_code == 200
    assert user.balance() == 12_345


def test_amount_mismatch_is_not_credited_and_held_for_review(app: Flask, client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    reference = user.topup(40_000)["reference"]
    assert signed_post(client, charge_event(reference, 4_000)).status_code == 200
    assert user.balance() == 0
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "failed"
    # A later correct-looking event does not undo the review.
    assert signed_post(client, json.dumps({"event": "charge.success", "data": {
        "id": 2, "reference": reference, "amount": 40_000, "currency": "NGN"}}).encode()).status_code == 200
    assert user.balance() == 0
    with app.app_context():
        from storefront_payments.charges import find_by_reference

        payment = find_by_reference(reference)
        assert payment is not None and payment.status == "review" and "4000" in (payment.review_reason or "")


def test_currency_mismatch_is_not_credited(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    reference = user.topup(40_000)["reference"]
    assert signed_post(client, charge_event(reference, 40_000, "USD")).status_code == 200
    assert user.balance() == 0
    assert user.get(f"/api/v1/payments/{reference}").json()["status"] == "failed"


def test_unknown_events_and_unknown_references_are_acknowledged(client: HttpClient) -> None:
    for body in (
        {"event": "subscription.create", "data": {"id": 5}},
        {"event": "charge.success", "data": {"reference": "nobody-knows-this", "amount": 1, "currency": "NGN"}},
        {"event": "transfer.success", "data": {"reference": "payout_unknown_reference"}},
        {"event": "refund.processed", "data": {"id": 99, "transaction_reference": "x", "amount": 1}},
        {"event": "charge.success", "data": {}},
    ):
        assert signed_post(client, json.dumps(body).encode()).status_code == 200, body


def test_signed_but_malformed_bodies_are_400(client: HttpClient) -> None:
    for body in (b"not json", b"[]", b'{"event": 1, "data": {}}', b'{"event": "charge.success", "data": []}'):
        assert signed_post(client, body).status_code == 400, body


def test_webhooks_and_reads_racing_for_the_same_charges_credit_each_once(
        client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    references = []
    for amount in (1_000, 2_000, 3_000):
        reference = user.topup(amount)["reference"]
        stack.simulator_config.webhook_url = None
        stack.complete(reference)
        references.append(reference)
    stack.simulator_config.webhook_url = stack.webhook_url
    barrier = threading.Barrier(12)
    failures: list[str] = []

    def replay(reference: str) -> None:
        barrier.wait()
        if stack.replay(reference) != 200:
            failures.append(reference)

    def read(reference: str) -> None:
        barrier.wait()
        if user.get(f"/api/v1/payments/{reference}").json()["status"] != "success":
            failures.append(reference)

    threads = [threading.Thread(target=work, args=(reference,))
               for reference in references for work in (replay, read, replay, read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert user.balance() == 6_000
    assert len(user.get("/api/v1/wallet/transactions").json()["items"]) == 3


def test_an_order_charge_with_the_wrong_amount_fails_the_order(client: HttpClient, auth: Auth, stack: Stack) -> None:
    import uuid

    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    reference = pay_order(client, auth, buyer, 50_000, "paystack", order_id).json()["reference"]
    assert signed_post(client, charge_event(reference, 5_000)).status_code == 200
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "failed"
    assert [e["event"] for e in stack.orders.for_order(order_id)] == ["payment.failed"]
