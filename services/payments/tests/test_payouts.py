from __future__ import annotations

import uuid

import requests
from flask import Flask

from services.payments.tests.conftest import ACCOUNT, Stack, User, run_cli, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.dependencies import current
from storefront_common.testing.tokens import Auth
from storefront_payments.dependencies import PaymentsDependencies


def vendor_with_money(client: HttpClient, auth: Auth, stack: Stack, amount: int) -> User:
    vendor = sign_in(client, auth, "vendor")
    stack.fund(vendor, amount)
    response = vendor.put("/api/v1/wallet/payout-account", ACCOUNT)
    assert response.status_code == 200, response.text
    return vendor


def complete_transfer(stack: Stack, reference: str, outcome: str) -> int:
    response = requests.post(f"{stack.simulator_url}/_simulator/transfers/{reference}/complete",
                             json={"outcome": outcome}, timeout=15)
    assert response.status_code == 200, response.text
    return int(response.json()["webhook_status"])


def test_payout_account_is_resolved_and_registered(client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = sign_in(client, auth, "vendor")
    assert vendor.get("/api/v1/wallet/payout-account").status_code == 404
    response = vendor.put("/api/v1/wallet/payout-account", ACCOUNT)
    assert response.status_code == 200
    body = response.json()
    assert body["account_number"] == "0123456789" and body["bank_code"] == "058" and body["account_name"]
    assert vendor.get("/api/v1/wallet/payout-account").json() == body
    assert len(stack.simulator_state()["recipients"]) == 1
    unresolvable = vendor.put("/api/v1/wallet/payout-account", {"account_number": "0000000000", "bank_code": "058"})
    assert unresolvable.status_code == 422
    assert vendor.put("/api/v1/wallet/payout-account", {"account_number": "12", "bank_code": "058"}).status_code == 422


def test_a_successful_payout(client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 50_000)
    response = vendor.post("/api/v1/wallet/payouts", {"amount": 20_000}, key="payout-1")
    assert response.status_code == 201
    payout = response.json()
    assert payout["status"] == "pending" and payout["amount"] == 20_000 and payout["currency"] == "NGN"
    assert vendor.balance() == 30_000
    replay = vendor.post("/api/v1/wallet/payouts", {"amount": 20_000}, key="payout-1")
    assert replay.status_code == 201 and replay.json() == payout
    assert vendor.balance() == 30_000
    [transfer] = stack.simulator_state()["transfers"]
    assert transfer["reference"] == payout["reference"] and transfer["amount"] == 20_000
    assert complete_transfer(stack, payout["reference"], "success") == 200
    assert vendor.balance() == 30_000
    kinds = [(e["kind"], e["amount"]) for e in vendor.get("/api/v1/wallet/transactions").json()["items"]]
    assert kinds == [("payout", -20_000), ("topup", 50_000)]


def test_a_failed_transfer_is_credited_back(client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 50_000)
    payout = vendor.post("/api/v1/wallet/payouts", {"amount": 50_000}, key="p").json()
    assert vendor.balance() == 0
    assert complete_transfer(stack, payout["reference"], "failed") == 200
    assert vendor.balance() == 50_000
    requests.post(f"{stack.simulator_url}/_simulator/webhooks/{payout['reference']}/replay", timeout=10)
    assert vendor.balance() == 50_000
    kinds = [e["kind"] for e in vendor.get("/api/v1/wallet/transactions").json()["items"]]
    assert kinds == ["payout_reversal", "payout", "topup"]


def test_a_transfer_reversed_after_success_comes_back_to_the_wallet(client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 10_000)
    payout = vendor.post("/api/v1/wallet/payouts", {"amount": 10_000}, key="p").json()
    complete_transfer(stack, payout["reference"], "success")
    assert vendor.balance() == 0
    complete_transfer(stack, payout["reference"], "reversed")
    assert vendor.balance() == 10_000


def test_a_lost_transfer_webhook_is_reverified_by_the_job(app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 10_000)
    payout = vendor.post("/api/v1/wallet/payouts", {"amount": 4_000}, key="p").json()
    stack.simulator_config.webhook_url = None
    complete_transfer(stack, payout["reference"], "failed")
    stack.simulator_config.webhook_url = stack.webhook_url
    assert vendor.balance() == 6_000
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert vendor.balance() == 10_000


def test_payouts_need_money_an_account_and_the_vendor_role(client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 1_000)
    short = vendor.post("/api/v1/wallet/payouts", {"amount": 1_001}, key="short")
    assert short.status_code == 402
    assert vendor.balance() == 1_000
    no_account = sign_in(client, auth, "vendor")
    assert no_account.post("/api/v1/wallet/payouts", {"amount": 1}, key="k").status_code == 409
    customer = sign_in(client, auth)
    assert customer.post("/api/v1/wallet/payouts", {"amount": 1}, key="k").status_code == 403
    assert customer.put("/api/v1/wallet/payout-account", ACCOUNT).status_code == 403
    assert vendor.post("/api/v1/wallet/payouts", {"amount": 1}).status_code == 422
    assert vendor.post("/api/v1/wallet/payouts", {"amount": 0}, key=str(uuid.uuid4())).status_code == 422


def test_a_transfer_paystack_refuses_is_failed_and_credited_back_at_once(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 10_000)
    with app.app_context():
        from storefront_payments.dependencies import db
        from storefront_payments.models import PayoutAccount

        db.session.get(PayoutAccount, vendor.id).recipient_code = "RCP_unknown"
        db.session.commit()
    response = vendor.post("/api/v1/wallet/payouts", {"amount": 3_000}, key="p")
    assert response.status_code == 201
    assert response.json()["status"] == "failed" and response.json()["failure_reason"]
    assert vendor.balance() == 10_000


def test_a_payout_while_paystack_is_down_is_sent_later_by_the_job(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    vendor = vendor_with_money(client, auth, stack, 10_000)
    paystack = current(PaymentsDependencies, app).paystack
    paystack.base_url = "http://127.0.0.1:9"
    try:
        response = vendor.post("/api/v1/wallet/payouts", {"amount": 3_000}, key="p")
    finally:
        paystack.base_url = stack.simulator_url
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert vendor.balance() == 7_000
    assert stack.simulator_state()["transfers"] == []
    run_cli(app, "reverify-payments", "--older-than", "0")
    [transfer] = stack.simulator_state()["transfers"]
    assert transfer["reference"] == response.json()["reference"]
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert len(stack.simulator_state()["transfers"]) == 1
    complete_transfer(stack, transfer["reference"], "success")
    assert vendor.balance() == 7_000
