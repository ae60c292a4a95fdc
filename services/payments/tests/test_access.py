from __future__ import annotations

import uuid
from datetime import timedelta

import requests
from flask import Flask
from services.payments.tests.conftest import SECRET_KEY, Stack, pay_order, settings_of, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.dependencies import current
from storefront_common.testing.tokens import Auth
from storefront_payments.dependencies import PaymentsDependencies

PROTECTED = [("GET", "/api/v1/wallet"), ("GET", "/api/v1/wallet/transactions"), ("POST", "/api/v1/wallet/topups"),
             ("PUT", "/api/v1/wallet/payout-account"), ("POST", "/api/v1/wallet/payouts"),
             ("GET", "/api/v1/payments/some-reference"), ("POST", "/internal/payments"),
             ("POST", f"/internal/payments/{uuid.uuid4()}/refund"),
             ("POST", f"/internal/escrow/{uuid.uuid4()}/release")]


def test_every_protected_route_wants_a_valid_access_token(client: HttpClient, auth: Auth) -> None:
    user_id = uuid.uuid4()
    bad_headers = [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        auth.tokens.headers(user_id, ["customer"], type="refresh"),
        auth.tokens.headers(user_id, ["customer"], exp=auth.tokens.claims("x", [])["iat"] - timedelta(minutes=1)),
        auth.tokens.headers(user_id, ["customer"], iss="https://someone.else"),
    ]
    for method, path in PROTECTED:
        for headers in bad_headers:
            response = client.request(method, path, json={}, headers=headers, timeout=10)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["Content-Type"] == "application/problem+json"


def test_internal_routes_want_a_service_token(client: HttpClient, auth: Auth) -> None:
    admin = sign_in(client, auth, "admin")
    for method, path in PROTECTED[-3:]:
        assert client.request(method, path, json={}, headers=admin.headers, timeout=10).status_code == 403


def test_wallet_routes_are_for_user_accounts(client: HttpClient, auth: Auth) -> None:
    assert client.get("/api/v1/wallet", headers=auth.service("orders"), timeout=10).status_code == 403


def test_another_users_payment_is_404_and_an_admin_may_read_it(client: HttpClient, auth: Auth) -> None:
    owner, stranger, admin = sign_in(client, auth), sign_in(client, auth), sign_in(client, auth, "admin")
    reference = owner.topup(1_000)["reference"]
    assert owner.get(f"/api/v1/payments/{reference}").status_code == 200
    hidden = stranger.get(f"/api/v1/payments/{reference}")
    assert hidden.status_code == 404
    assert hidden.json() == stranger.get("/api/v1/payments/does-not-exist").json()
    assert admin.get(f"/api/v1/payments/{reference}").json()["reference"] == reference


def test_wallet_of_a_new_user_is_empty(client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    assert user.get("/api/v1/wallet").json() == {"balance": 0, "currency": "NGN", "escrow_pending": 0}
    assert user.get("/api/v1/wallet/transactions").json() == {"items": [], "page": 1, "per_page": 20, "total": 0,
                                                               "pages": 0}
    assert user.get("/api/v1/wallet/transactions?per_page=101").status_code == 422


def test_wallet_history_is_paginated(client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    for amount in (100, 200, 300):
        stack.fund(user, amount)
    page = user.get("/api/v1/wallet/transactions?page=2&per_page=2").json()
    assert (page["total"], page["pages"], page["page"]) == (3, 2, 2)
    assert [(e["amount"], e["balance_after"]) for e in page["items"]] == [(100, 100)]


def test_paystack_down_is_503_with_retry_after_and_leaves_no_trace(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack) -> None:
    user = sign_in(client, auth)
    paystack = current(PaymentsDependencies, app).paystack
    paystack.base_url = "http://127.0.0.1:9"
    try:
        topup = user.post("/api/v1/wallet/topups", {"amount": 1_000}, key="down")
        order = pay_order(client, auth, user, 1_000, "paystack")
    finally:
        paystack.base_url = stack.simulator_url
    for response in (topup, order):
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.headers["Content-Type"] == "application/problem+json"
    retried = user.post("/api/v1/wallet/topups", {"amount": 1_000}, key="down")
    assert retried.status_code == 201


def test_a_wrong_paystack_key_is_503_and_the_key_never_shows(app: Flask, client: HttpClient, auth: Auth) -> None:
    user = sign_in(client, auth)
    paystack = current(PaymentsDependencies, app).paystack
    real_key = paystack._secret_key
    paystack._secret_key = "sk_test_not_the_right_one"
    try:
        response = user.post("/api/v1/wallet/topups", {"amount": 1_000}, key="k")
    finally:
        paystack._secret_key = real_key
    assert response.status_code == 503
    assert "sk_test" not in response.text
    assert "sk_test" not in repr(settings_of(app)) and "sk_test" not in repr(paystack)


def test_health_and_openapi(client: HttpClient) -> None:
    assert client.get("/healthz", timeout=10).status_code == 200
    assert client.get("/readyz", timeout=10).status_code == 200
    spec = client.get("/openapi.json", timeout=10).json()
    paths = spec["paths"]
    assert {"/api/v1/wallet", "/api/v1/wallet/transactions", "/api/v1/wallet/topups", "/api/v1/wallet/payouts",
            "/api/v1/wallet/payout-account", "/api/v1/payments/{reference}", "/api/v1/payments/paystack/callback",
            "/api/v1/payments/paystack/webhook", "/internal/payments", "/internal/payments/{order_id}/refund",
            "/internal/escrow/{order_id}/release"} <= set(paths)
    webhook = paths["/api/v1/payments/paystack/webhook"]["post"]
    assert "requestBody" in webhook
    assert {"name": "x-paystack-signature", "in": "header", "required": True} == {
        key: webhook["parameters"][0][key] for key in ("name", "in", "required")}
    assert "402" in paths["/internal/payments"]["post"]["responses"]
    assert {"401", "403", "404"} <= set(paths["/api/v1/wallet/payout-account"]["get"]["responses"])
    assert {"401", "403"} <= set(paths["/api/v1/wallet"]["get"]["responses"])  # a service token has no wallet


def test_production_needs_a_paystack_key() -> None:
    import pytest
    from pydantic import ValidationError

    from storefront_payments.settings import Settings

    with pytest.raises(ValidationError):
        Settings(environment="production", paystack_secret_key="")
    assert Settings(environment="production", paystack_secret_key="sk_live_x").is_production


def test_the_secret_key_never_reaches_a_log(
        app: Flask, client: HttpClient, auth: Auth, stack: Stack, caplog: object) -> None:
    import logging

    from services.payments.tests.conftest import SECRET_KEY

    caplog.set_level(logging.DEBUG)  # type: ignore[attr-defined]
    user = sign_in(client, auth)
    reference = user.topup(1_000)["reference"]
    stack.complete(reference)
    requests.post(stack.webhook_url, data=b"{}", headers={"x-paystack-signature": "forged"}, timeout=10)
    paystack = current(PaymentsDependencies, app).paystack
    paystack.base_url = "http://127.0.0.1:9"
    try:
        user.post("/api/v1/wallet/topups", {"amount": 1_000}, key="down")
    finally:
        paystack.base_url = stack.simulator_url
    assert "missing or wrong signature" in caplog.text  # type: ignore[attr-defined]
    assert SECRET_KEY not in caplog.text  # type: ignore[attr-defined]
