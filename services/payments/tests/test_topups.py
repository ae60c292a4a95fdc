from __future__ import annotations

import re
import uuid

import requests

from services.payments.tests.conftest import Stack, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth


def test_a_topup_through_the_simulator_is_credited_once(client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    started = user.topup(250_000)
    assert started["status"] == "pending"
    assert started["amount"] == 250_000 and started["currency"] == "NGN"
    assert started["authorization_url"].startswith(stack.simulator_url + "/checkout/")
    assert user.balance() == 0

    assert stack.complete(started["reference"])["webhook_status"] == 200
    assert user.balance() == 250_000
    assert stack.replay(started["reference"]) == 200
    assert user.balance() == 250_000

    history = user.get("/api/v1/wallet/transactions").json()
    assert history["total"] == 1
    [entry] = history["items"]
    assert entry["kind"] == "topup" and entry["amount"] == 250_000 and entry["balance_after"] == 250_000
    assert entry["reference"] == started["reference"]
    assert entry["created_at"].endswith("Z")
    payment = user.get(f"/api/v1/payments/{started['reference']}").json()
    assert payment["status"] == "success" and payment["purpose"] == "topup" and payment["paid_at"].endswith("Z")
    assert "order_id" not in payment


def test_topup_sends_the_users_email_and_the_callback_url_to_paystack(client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    started = user.topup(10_000)
    [txn] = [t for t in stack.simulator_state()["transactions"] if t["reference"] == started["reference"]]
    assert user.email in str(txn)
    assert f"{client.base_url}/api/v1/payments/paystack/callback" in str(txn)


def test_the_checkout_page_pays_and_the_callback_shows_the_outcome(client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    started = user.topup(50_000)
    access_code = started["access_code"]
    paid = requests.post(f"{stack.simulator_url}/checkout/{access_code}/pay", timeout=15)
    assert paid.status_code == 200 and "Payment successful" in paid.text
    back = re.search(r'<a class="button" href="([^"]+)">Return to the shop</a>', paid.text)
    assert back, "the simulator's outcome page has no way back"
    callback = back.group(1).replace("&amp;", "&")
    landing = requests.get(callback, timeout=15)
    assert landing.status_code == 200 and landing.headers["Content-Type"].startswith("text/html")
    assert "Payment received" in landing.text and started["reference"] in landing.text
    assert "NGN 500.00" in landing.text
    as_json = requests.get(callback, headers={"Accept": "application/json"}, timeout=15)
    assert as_json.json()["status"] == "success"
    assert user.balance() == 50_000


def test_the_callback_documents_its_html_page_and_its_404(client: HttpClient) -> None:
    unknown = client.get("/api/v1/payments/paystack/callback?reference=nobody-knows-this", timeout=15)
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == "application/problem+json"
    spec = client.get("/openapi.json", timeout=10).json()
    responses = spec["paths"]["/api/v1/payments/paystack/callback"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"application/json", "text/html"}
    assert "404" in responses


def test_topup_idempotency_key_replays_and_conflicts(client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    first = user.post("/api/v1/wallet/topups", {"amount": 7_000}, key="topup-1")
    again = user.post("/api/v1/wallet/topups", {"amount": 7_000}, key="topup-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(stack.simulator_state()["transactions"]) == 1
    different = user.post("/api/v1/wallet/topups", {"amount": 8_000}, key="topup-1")
    assert different.status_code == 409
    missing = user.post("/api/v1/wallet/topups", {"amount": 8_000})
    assert missing.status_code == 422
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_topup_validation(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    for body in ({"amount": 0}, {"amount": -5}, {"amount": 10.5}, {"amount": "100"}, {}, {"amount": 1, "x": 1}):
        response = user.post("/api/v1/wallet/topups", body, key=uuid.uuid4().hex)
        assert response.status_code == 422, body
    raw = client.post("/api/v1/wallet/topups", data="{nope",
                      headers={**user.headers, "Idempotency-Key": "k", "Content-Type": "application/json"},
                      timeout=10)
    assert raw.status_code == 400


def test_a_whole_number_float_amount_is_that_amount(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    response = user.post("/api/v1/wallet/topups", {"amount": 9873830.0}, key=uuid.uuid4().hex)
    assert response.status_code == 201 and response.json()["amount"] == 9_873_830


def test_a_declined_topup_is_failed_and_credits_nothing(client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    started = user.topup(9_000)
    stack.complete(started["reference"], "failed")
    assert user.get(f"/api/v1/payments/{started['reference']}").json()["status"] == "failed"
    assert user.balance() == 0


def test_an_unpaid_topup_stays_pending_when_verified(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    started = user.topup(9_000)
    assert user.get(f"/api/v1/payments/{started['reference']}").json()["status"] == "pending"
    assert user.balance() == 0


def test_a_hostile_topup_body_is_a_4xx_problem_and_leaves_its_key_unused(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    headers = {**user.headers, "Idempotency-Key": "hostile", "Content-Type": "application/json"}
    for body, status in ((b"[" * 50_000, 400), (b'{"amount": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400),
                         (b'{"amount": 100, "amount": 200}', 400), (b'{"amount": 1e400}', 422),
                         (b'{"amount": ' + b"9" * 5000 + b"}", 422),
                         (b'{"amount": 100, "x": "' + b"a" * 2**21 + b'"}', 413)):
        response = client.post("/api/v1/wallet/topups", data=body, headers=headers, timeout=10)
        assert response.status_code == status, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
    text = client.post("/api/v1/wallet/topups", data=b'{"amount": 100}',
                       headers={**headers, "Content-Type": "text/plain"}, timeout=10)
    assert text.status_code == 415 and text.headers["Content-Type"] == "application/problem+json"
    assert user.post("/api/v1/wallet/topups", {"amount": 100}, key="hostile").status_code == 201
    assert user.get("/api/v1/wallet/transactions").json()["total"] == 0
