from __future__ import annotations

import threading
import uuid

import requests
from flask import Flask

from services.payments.tests.conftest import Stack, pay_order, settings_of, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.currency import configured_currency
from storefront_common.testing.databases import recorded_statements
from storefront_common.testing.tokens import Auth


def test_a_wallet_payment_moves_money_into_escrow(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    stack.fund(buyer, 10_000)
    order_id = uuid.uuid4()
    response = pay_order(client, auth, buyer, 6_000, order_id=order_id,
                         splits=[{"vendor_id": str(vendor.id), "amount": 6_000}])
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "success" and body["method"] == "wallet" and body["amount"] == 6_000
    assert "authorization_url" not in body
    assert buyer.balance() == 4_000
    assert vendor.get("/api/v1/wallet").json() == {"balance": 0, "currency": "NGN", "escrow_pending": 6_000}
    [payment_entry, topup_entry] = buyer.get("/api/v1/wallet/transactions").json()["items"]
    assert (payment_entry["kind"], payment_entry["amount"], payment_entry["balance_after"]) == ("payment", -6_000, 4_000)
    assert topup_entry["kind"] == "topup"
    payment = buyer.get(f"/api/v1/payments/{body['reference']}").json()
    assert payment["purpose"] == "order" and payment["order_id"] == str(order_id) and payment["status"] == "success"
    assert stack.orders.for_order(order_id) == []  # the orders service learnt it from the answer itself


def test_a_repeat_for_the_same_order_returns_the_first_payment(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer = sign_in(client, auth)
    stack.fund(buyer, 10_000)
    order_id = uuid.uuid4()
    first = pay_order(client, auth, buyer, 3_000, order_id=order_id)
    again = pay_order(client, auth, buyer, 3_000, order_id=order_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert buyer.balance() == 7_000
    assert pay_order(client, auth, buyer, 4_000, order_id=order_id).status_code == 409


def test_a_short_wallet_answers_402_and_moves_nothing(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer = sign_in(client, auth)
    stack.fund(buyer, 1_000)
    order_id = uuid.uuid4()
    response = pay_order(client, auth, buyer, 1_001, order_id=order_id)
    assert response.status_code == 402
    assert response.headers["Content-Type"] == "application/problem+json"
    assert (response.json()["status"], response.json()["balance"], response.json()["amount"]) == (402, 1_000, 1_001)
    assert buyer.balance() == 1_000
    assert len(buyer.get("/api/v1/wallet/transactions").json()["items"]) == 1
    stack.fund(buyer, 1)
    assert pay_order(client, auth, buyer, 1_001, order_id=order_id).status_code == 201  # nothing was recorded before
    assert buyer.balance() == 0


def test_a_wallet_payment_is_one_transaction_of_seven_statements(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    """The checkout's hot path: every statement more is a round trip more for every order."""
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    stack.fund(buyer, 10_000)
    with recorded_statements(app, words=1, transactions=True) as seen:
        response = pay_order(client, auth, buyer, 1_000, splits=[{"vendor_id": str(vendor.id), "amount": 1_000}])
    assert response.status_code == 201
    # payment, its split, lock the accounts, create the escrow, balances, ledger transaction, its entries
    assert seen == ["BEGIN", "INSERT", "INSERT", "SELECT", "INSERT", "UPDATE", "INSERT", "INSERT", "COMMIT"]


def test_twenty_concurrent_debits_never_take_a_wallet_negative(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer = sign_in(client, auth)
    stack.fund(buyer, 5_000)
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def pay() -> None:
        barrier.wait()
        statuses.append(pay_order(client, auth, buyer, 1_000).status_code)

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [402] * 15
    assert buyer.balance() == 0


def test_a_paystack_order_payment_is_escrowed_on_confirmation(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    order_id = uuid.uuid4()
    created = pay_order(client, auth, buyer, 25_000, "paystack", order_id,
                        splits=[{"vendor_id": str(vendor.id), "amount": 25_000}])
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending" and body["authorization_url"].startswith(stack.simulator_url)
    assert pay_order(client, auth, buyer, 25_000, "paystack", order_id).json() == body
    assert vendor.get("/api/v1/wallet").json()["escrow_pending"] == 0
    stack.complete(body["reference"])
    assert vendor.get("/api/v1/wallet").json()["escrow_pending"] == 25_000
    assert buyer.balance() == 0  # paid by card: the buyer's wallet is not involved


def test_internal_payment_validation(client: HttpClient, auth: Auth) -> None:
    buyer = sign_in(client, auth)
    good = {"order_id": str(uuid.uuid4()), "user_id": str(buyer.id), "email": buyer.email, "amount": 100,
            "currency": "NGN", "method": "wallet"}
    bad_bodies = [
        {**good, "currency": "USD"},
        {**good, "method": "cash"},
        {**good, "amount": 0},
        {**good, "email": "not-an-email"},
        {**good, "order_id": "nope"},
        {**good, "splits": [{"vendor_id": str(uuid.uuid4()), "amount": 99}]},
    ]
    for body in bad_bodies:
        response = client.post("/internal/payments", json=body, headers=auth.service("orders"), timeout=10)
        assert response.status_code == 422, body


def test_payments_settle_only_in_the_shops_currency(app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer = sign_in(client, auth)
    stack.fund(buyer, 10_000)

    def pay(currency: str) -> requests.Response:
        body = {"order_id": str(uuid.uuid4()), "user_id": str(buyer.id), "email": buyer.email, "amount": 100,
                "currency": currency, "method": "wallet"}
        return client.post("/internal/payments", json=body, headers=auth.service("orders"),
                           timeout=10)

    refused = pay("USD")
    reason = "The payment is priced in USD; this shop sells and settles in NGN only."
    assert refused.status_code == 422 and refused.json()["errors"] == [{"field": "currency", "message": reason}]
    with configured_currency(app, "GHS"):
        assert buyer.get("/api/v1/wallet").json() == {"balance": 0, "currency": "GHS", "escrow_pending": 0}
        assert pay("NGN").status_code == 422
        assert pay("GHS").status_code == 402  # accepted, but the GHS wallet is empty
    assert buyer.balance() == 10_000


def test_refund_of_a_wallet_payment_returns_the_money_at_once(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    stack.fund(buyer, 5_000)
    order_id = uuid.uuid4()
    reference = pay_order(client, auth, buyer, 5_000, order_id=order_id,
                          splits=[{"vendor_id": str(vendor.id), "amount": 5_000}]).json()["reference"]
    refund_url = f"/internal/payments/{order_id}/refund"
    first = client.post(refund_url, headers=auth.service("orders"), timeout=10)
    again = client.post(refund_url, headers=auth.service("orders"), timeout=10)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"reference": reference, "status": "refunded"}
    assert buyer.balance() == 5_000
    assert buyer.get("/api/v1/wallet/transactions").json()["items"][0]["kind"] == "refund"
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "refunded"
    assert vendor.get("/api/v1/wallet").json()["escrow_pending"] == 0
    release = client.post(f"/internal/escrow/{order_id}/release", headers=auth.service("orders"),
                          json={"splits": [{"vendor_id": str(vendor.id), "amount": 5_000}]}, timeout=10)
    assert release.status_code == 409


def test_refund_of_a_paystack_payment_goes_through_paystack(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer = sign_in(client, auth)
    order_id = uuid.uuid4()
    reference = pay_order(client, auth, buyer, 12_000, "paystack", order_id).json()["reference"]
    refund_url = f"/internal/payments/{order_id}/refund"
    assert client.post(refund_url, headers=auth.service("orders"), timeout=10).status_code == 409  # unpaid
    stack.complete(reference)
    first = client.post(refund_url, headers=auth.service("orders"), timeout=10)
    again = client.post(refund_url, headers=auth.service("orders"), timeout=10)
    assert first.json() == again.json() == {"reference": reference, "status": "pending"}
    [refund] = stack.simulator_state()["refunds"]
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "success"
    requests.post(f"{stack.simulator_url}/_simulator/refunds/{refund['id']}/complete", json={"outcome": "processed"},
                  timeout=15)
    stack.replay(reference)  # the refund event again: no second effect
    assert buyer.get(f"/api/v1/payments/{reference}").json()["status"] == "refunded"
    assert client.post(refund_url, headers=auth.service("orders"), timeout=10).json()["status"] == "refunded"
    assert buyer.balance() == 0  # the card gets it back, not the wallet
    assert [e["event"] for e in stack.orders.for_order(order_id)] == ["payment.succeeded", "payment.refunded"]


def test_a_failed_paystack_refund_may_be_asked_again(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    reference = pay_order(client, auth, buyer, 12_000, "paystack", order_id).json()["reference"]
    stack.complete(reference)
    refund_url = f"/internal/payments/{order_id}/refund"
    client.post(refund_url, headers=auth.service("orders"), timeout=10)
    [refund] = stack.simulator_state()["refunds"]
    requests.post(f"{stack.simulator_url}/_simulator/refunds/{refund['id']}/complete", json={"outcome": "failed"},
                  timeout=15)
    assert client.post(refund_url, headers=auth.service("orders"), timeout=10).json()["status"] == "pending"
    assert len(stack.simulator_state()["refunds"]) == 2


def test_escrow_release_credits_vendors_less_the_platform_fee(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    settings_of(app).platform_fee_bps = 250  # 2.5%
    buyer, first, second = sign_in(client, auth), sign_in(client, auth, "vendor"), sign_in(client, auth, "vendor")
    stack.fund(buyer, 20_000)
    order_id = uuid.uuid4()
    splits = [{"vendor_id": str(first.id), "amount": 12_000}, {"vendor_id": str(second.id), "amount": 8_001}]
    pay_order(client, auth, buyer, 20_000, order_id=order_id)
    release_url = f"/internal/escrow/{order_id}/release"
    wrong = client.post(release_url, json={"splits": splits}, headers=auth.service("orders"), timeout=10)
    assert wrong.status_code == 422
    splits[1]["amount"] = 8_000
    released = client.post(release_url, json={"splits": splits}, headers=auth.service("orders"), timeout=10)
    assert released.status_code == 200
    body = released.json()
    assert body["fee_total"] == 300 + 200 and body["fee_bps"] == 250
    assert {(s["vendor_id"], s["net"]) for s in body["splits"]} == {(str(first.id), 11_700), (str(second.id), 7_800)}
    again = client.post(release_url, json={"splits": splits}, headers=auth.service("orders"), timeout=10)
    assert again.status_code == 200 and again.json() == body
    assert first.balance() == 11_700 and second.balance() == 7_800
    kinds = [(e["kind"], e["amount"]) for e in first.get("/api/v1/wallet/transactions").json()["items"]]
    assert kinds == [("fee", -300), ("escrow_release", 12_000)]
    refund = client.post(f"/internal/payments/{order_id}/refund", headers=auth.service("orders"),
                         timeout=10)
    assert refund.status_code == 409


def test_escrow_pending_counts_only_held_money(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    stack.fund(buyer, 9_000)
    held, released = uuid.uuid4(), uuid.uuid4()
    for order_id, amount in ((held, 4_000), (released, 5_000)):
        pay_order(client, auth, buyer, amount, order_id=order_id,
                  splits=[{"vendor_id": str(vendor.id), "amount": amount}])
    client.post(f"/internal/escrow/{released}/release", headers=auth.service("orders"),
                json={"splits": [{"vendor_id": str(vendor.id), "amount": 5_000}]}, timeout=10)
    assert vendor.get("/api/v1/wallet").json() == {"balance": 5_000, "currency": "NGN", "escrow_pending": 4_000}


def test_unknown_orders_are_404_on_refund_and_release(client: HttpClient, auth: Auth) -> None:
    order_id = uuid.uuid4()
    assert client.post(f"/internal/payments/{order_id}/refund", headers=auth.service("orders"),
                       timeout=10).status_code == 404
    assert client.post(f"/internal/escrow/{order_id}/release", headers=auth.service("orders"),
                       json={"splits": [{"vendor_id": str(uuid.uuid4()), "amount": 1}]}, timeout=10).status_code == 404


def test_refund_and_release_racing_for_one_escrow_only_one_wins(client: HttpClient, auth: Auth, stack: Stack) -> None:
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    stack.fund(buyer, 30_000)
    results: list[tuple[str, int]] = []
    for _ in range(3):
        order_id = uuid.uuid4()
        pay_order(client, auth, buyer, 10_000, order_id=order_id)
        barrier = threading.Barrier(4)

        def call(kind: str, url: str, body: dict | None) -> None:
            barrier.wait()
            response = client.post(url, json=body, headers=auth.service("orders"), timeout=30)
            results.append((kind, response.status_code))

        threads = [threading.Thread(target=call, args=("refund", f"/internal/payments/{order_id}/refund",
                                                       None)) for _ in range(2)]
        threads += [threading.Thread(target=call, args=(
            "release", f"/internal/escrow/{order_id}/release",
            {"splits": [{"vendor_id": str(vendor.id), "amount": 10_000}]})) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert buyer.balance() + vendor.balance() == 30_000
    assert all(status in (200, 409) for _, status in results)
    winners = {kind for kind, status in results if status == 200}
    assert winners and len([r for r in results if r[1] == 200]) == 6


def test_a_paystack_payment_stuck_without_a_checkout_link_is_started_afresh(
        app: Flask, client: HttpClient, auth: Auth) -> None:
    from datetime import timedelta

    from storefront_common.timeutil import utcnow
    from storefront_payments.dependencies import db
    from storefront_payments.models import Payment, PaymentSplit

    buyer, order_id = sign_in(client, auth), uuid.uuid4()
    with app.app_context():
        stuck = Payment(reference="ord-stuck", purpose="order", method="paystack", user_id=buyer.id,
                        order_id=order_id, email=buyer.email, amount=5_000, currency="NGN", status="pending",
                        created_at=utcnow() - timedelta(minutes=5))
        stuck.splits = [PaymentSplit(vendor_id=uuid.uuid4(), amount=5_000)]
        db.session.add(stuck)
        db.session.commit()
    fresh = pay_order(client, auth, buyer, 5_000, "paystack", order_id)
    assert fresh.status_code == 201
    assert fresh.json()["authorization_url"] and fresh.json()["reference"] != "ord-stuck"
