from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER
from storefront_common.timeutil import utcnow
from storefront_users import passwords
from storefront_users.app import create_app
from storefront_users.dependencies import db, deps
from storefront_users.models import LoginFailure, User
from storefront_users.settings import Settings
from storefront_users.signing_keys import thumbprint
from services.users.tests.conftest import PASSWORD, AuthActions, claims_of

WRONG = "wrong password!"


def _login(client: FlaskClient, email: str, password: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json, dict(response.headers)


def test_login_returns_a_token_pair_with_the_contract_claims(client: FlaskClient, auth: AuthActions,
                                                             active_key: rsa.RSAPrivateKey) -> None:
    user = auth.register("ada@example.com")
    pair = auth.login("ADA@example.com")
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    header = jwt.get_unverified_header(pair["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == thumbprint(active_key.public_key())
    access, refresh = claims_of(pair["access_token"]), claims_of(pair["refresh_token"])
    for claims, token_type in ((access, "access"), (refresh, "refresh")):
        assert claims["iss"] == TEST_ISSUER and claims["aud"] == "storefront"
        assert claims["sub"] == user["id"] and claims["roles"] == ["customer"] and claims["type"] == token_type
        assert {"jti", "iat", "exp"} <= set(claims)
    assert access["exp"] - access["iat"] == 900
    assert "csrf" not in access and "nbf" not in access
    assert refresh["exp"] - refresh["iat"] == 2_592_000
    assert client.get("/api/v1/users/me", headers=auth.bearer(pair["access_token"])).json["id"] == user["id"]


def test_wrong_password_and_unknown_email_get_the_same_401(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    wrong_password = _login(client, "ada@example.com", WRONG)
    unknown_email = _login(client, "nobody@example.com", WRONG)
    assert wrong_password[0] == unknown_email[0] == 401
    assert wrong_password[1] == unknown_email[1]


def test_an_unknown_email_costs_a_password_verification_too(client: FlaskClient,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []
    real_hasher = passwords._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return real_hasher.verify(hash_, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real_hasher, name)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    assert _login(client, "nobody@example.com", WRONG)[0] == 401
    assert len(verified) == 1 and verified[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_deactivated_account_cannot_log_in(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    with app.app_context():
        db.session.execute(update(User).values(is_active=False))
        db.session.commit()
    status, problem, _ = _login(client, "ada@example.com", PASSWORD)
    assert status == 401 and problem["status"] == 401


def test_unverified_email_is_refused_when_verification_is_required(
        app: Flask, client: FlaskClient, auth: AuthActions, monkeypatch: pytest.MonkeyPatch) -> None:
    auth.register("ada@example.com")
    with app.app_context():
        monkeypatch.setattr(deps().settings, "require_verified_email", True)
    assert _login(client, "ada@example.com", PASSWORD)[0] == 403
    assert _login(client, "ada@example.com", WRONG)[0] == 401
    with app.app_context():
        db.session.execute(update(User).values(email_verified=True))
        db.session.commit()
    assert _login(client, "ada@example.com", PASSWORD)[0] == 200


def test_five_failures_in_15_minutes_throttle_the_email(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    for attempt in range(5):
        assert _login(client, "ada@example.com" if attempt % 2 else "ADA@example.com", WRONG)[0] == 401
    status, problem, headers = _login(client, "Ada@Example.com", PASSWORD)
    assert status == 429 and problem["status"] == 429
    assert 890 <= int(headers["Retry-After"]) <= 900
    # Another account is not affected, and unknown emails are throttled alike (no enumeration).
    auth.register("bob@example.com")
    assert _login(client, "bob@example.com", PASSWORD)[0] == 200
    for _ in range(5):
        assert _login(client, "ghost@example.com", WRONG)[0] == 401
    assert _login(client, "ghost@example.com", WRONG)[0] == 429


def test_retry_after_counts_down_to_when_the_oldest_failure_leaves_the_window(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    for _ in range(5):
        _login(client, "ada@example.com", WRONG)
    with app.app_context():
        oldest = db.session.scalars(db.select(LoginFailure).order_by(LoginFailure.failed_at)).first()
        assert oldest is not None
        oldest.failed_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
    status, _, headers = _login(client, "ada@example.com", PASSWORD)
    assert status == 429 and 295 <= int(headers["Retry-After"]) <= 300
    with app.app_context():
        db.session.execute(update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=15, seconds=1)))
        db.session.commit()
    assert _login(client, "ada@example.com", PASSWORD)[0] == 200


def test_concurrent_guesses_from_many_replicas_get_at_most_five_tries(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def guess(base_url: str) -> None:
        barrier.wait()
        response = requests.post(f"{base_url}/api/v1/auth/login", timeout=60,
                                 json={"email": "ada@example.com", "password": WRONG})
        statuses.append(response.status_code)

    with serve_wsgi(app) as base_url:
        threads = [threading.Thread(target=guess, args=(base_url,)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert set(statuses) <= {401, 429} and len(statuses) == 10
    wrong_guesses = statuses.count(401)
    # Racing attempts fail closed: any that got through count, and five in all fill the window.
    while (status := _login(client, "ada@example.com", WRONG)[0]) == 401:
        wrong_guesses += 1
    assert status == 429 and wrong_guesses == 5


def test_the_throttle_holds_across_replicas(client: FlaskClient, auth: AuthActions, settings: Settings) -> None:
    auth.register("ada@example.com")
    for _ in range(5):
        assert _login(client, "ada@example.com", WRONG)[0] == 401
    replica = create_app(settings)
    try:
        response = replica.test_client().post("/api/v1/auth/login",
                                              json={"email": "ada@example.com", "password": PASSWORD})
        assert response.status_code == 429
    finally:
        with replica.app_context():
            db.engine.dispose()


def test_a_successful_login_clears_earlier_failures(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    for _ in range(4):
        _login(client, "ada@example.com", WRONG)
    assert _login(client, "ada@example.com", PASSWORD)[0] == 200
    for _ in range(4):
        assert _login(client, "ada@example.com", WRONG)[0] == 401
    assert _login(client, "ada@example.com", PASSWORD)[0] == 200


def test_an_outdated_hash_is_upgraded_at_login(app: Flask, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    from argon2 import PasswordHasher
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.execute(update(User).values(password_hash=weak))
        db.session.commit()
    auth.login("ada@example.com")
    with app.app_context():
        upgraded = db.session.scalars(db.select(User.password_hash)).one()
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and upgraded != weak
    auth.login("ada@example.com")


def test_login_validation(client: FlaskClient) -> None:
    assert _login(client, "", PASSWORD)[0] == 422
    assert _login(client, "ada\x00@example.com", PASSWORD)[0] == 422
    assert _login(client, "ada@example.com", "x" * 129)[0] == 422
    assert client.post("/api/v1/auth/login", json={"email": "a@b.co"}).status_code == 422
    assert client.post("/api/v1/auth/login", data="nope", content_type="application/json").status_code == 400
