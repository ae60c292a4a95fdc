from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from storefront_common.auth import RemoteJwks
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER
from storefront_common.timeutil import utcnow
from storefront_users.app import create_app
from storefront_users.dependencies import db
from storefront_users.models import User
from storefront_users.settings import Settings
from storefront_users.signing_keys import thumbprint
from services.users.tests.conftest import AuthActions, claims_of, jwks_of, private_pem


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


def _claims(sub: str, **overrides: Any) -> dict[str, Any]:
    now = utcnow()
    claims = {"iss": TEST_ISSUER, "aud": "storefront", "sub": sub, "roles": ["customer"], "type": "access",
              "jti": uuid.uuid4().hex, "iat": int(now.timestamp()),
              "exp": int((now + timedelta(minutes=5)).timestamp())}
    claims.update(overrides)
    return claims


def _sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str | None = None) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid or thumbprint(key.public_key())})


def _tampered(sub: str, key: rsa.RSAPrivateKey) -> str:
    header, _, signature = _sign(_claims(sub), key).split(".")
    return f"{header}.{_json_b64(_claims(sub, roles=['admin']))}.{signature}"


def _alg_none(sub: str, key: rsa.RSAPrivateKey) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": thumbprint(key.public_key())}
    return f"{_json_b64(header)}.{_json_b64(_claims(sub))}."


def _hs256_with_public_key(sub: str, key: rsa.RSAPrivateKey) -> str:
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_json_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': thumbprint(key.public_key())})}." \
                    f"{_json_b64(_claims(sub))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


BAD_ACCESS_TOKENS = {
    "tampered signature": _tampered,
    "alg none": _alg_none,
    "HS256 signed with the RSA public key": _hs256_with_public_key,
    "expired": lambda sub, key: _sign(_claims(sub, exp=int(utcnow().timestamp()) - 60), key),
    "wrong iss": lambda sub, key: _sign(_claims(sub, iss="https://evil.example"), key),
    "wrong aud": lambda sub, key: _sign(_claims(sub, aud="another-audience"), key),
    "unknown kid": lambda sub, key: _sign(_claims(sub), rsa.generate_private_key(65537, 2048)),
    "known kid, other key": lambda sub, key: _sign(_claims(sub), rsa.generate_private_key(65537, 2048),
                                                   kid=thumbprint(key.public_key())),
    "refresh token as access token": lambda sub, key: _sign(_claims(sub, type="refresh"), key),
    "garbage": lambda sub, key: "not.a.token",
}


def test_a_well_formed_token_signed_with_the_active_key_is_accepted(client: FlaskClient, auth: AuthActions,
                                                                    active_key: rsa.RSAPrivateKey) -> None:
    user = auth.register("ada@example.com")
    token = _sign(_claims(user["id"]), active_key)
    assert client.get("/api/v1/users/me", headers=auth.bearer(token)).status_code == 200


@pytest.mark.parametrize("name", BAD_ACCESS_TOKENS)
def test_bad_access_tokens_get_401(
        client: FlaskClient, auth: AuthActions, active_key: rsa.RSAPrivateKey, name: str) -> None:
    user = auth.register("ada@example.com")
    token = BAD_ACCESS_TOKENS[name](user["id"], active_key)
    response = client.get("/api/v1/users/me", headers=auth.bearer(token))
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_token_gets_401(client: FlaskClient) -> None:
    assert client.get("/api/v1/users/me").status_code == 401
    assert client.post("/api/v1/auth/refresh").status_code == 401


def test_an_access_token_is_not_a_refresh_token(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    assert client.post("/api/v1/auth/refresh", headers=auth.bearer(pair["access_token"])).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=auth.bearer(pair["access_token"])).status_code == 401
    assert client.get("/api/v1/users/me", headers=auth.bearer(pair["refresh_token"])).status_code == 401


def _refresh(client: FlaskClient, refresh_token: str) -> tuple[int, dict[str, Any]]:
    response = client.post("/api/v1/auth/refresh", headers=AuthActions.bearer(refresh_token))
    return response.status_code, response.json


def test_refresh_rotates_the_pair(client: FlaskClient, auth: AuthActions) -> None:
    user, first = auth.registered_session("ada@example.com")
    status, second = _refresh(client, first["refresh_token"])
    assert status == 200 and set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])["sub"] == user["id"]
    assert client.get("/api/v1/users/me", headers=auth.bearer(second["access_token"])).status_code == 200
    assert _refresh(client, second["refresh_token"])[0] == 200


def test_reusing_a_refresh_token_revokes_the_whole_family(client: FlaskClient, auth: AuthActions) -> None:
    auth.registered_session("ada@example.com")
    other_session = auth.login("ada@example.com")
    first = auth.login("ada@example.com")
    _, second = _refresh(client, first["refresh_token"])
    status, problem = _refresh(client, first["refresh_token"])
    assert status == 401 and problem["status"] == 401
    assert _refresh(client, second["refresh_token"])[0] == 401
    # Only that session dies: the same user's other login still refreshes.
    assert _refresh(client, other_session["refresh_token"])[0] == 200


def test_a_concurrent_double_refresh_lets_exactly_one_through(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    results: list[requests.Response] = []
    barrier = threading.Barrier(2)

    def refresh(base_url: str) -> None:
        barrier.wait()
        results.append(requests.post(f"{base_url}/api/v1/auth/refresh", headers=auth.bearer(pair["refresh_token"]),
                                     timeout=30))

    with serve_wsgi(app) as base_url:
        threads = [threading.Thread(target=refresh, args=(base_url,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(response.status_code for response in results) == [200, 401]
    # The double presentation looks like theft, so the winner's new refresh token is revoked too.
    winner = next(response for response in results if response.status_code == 200).json()
    assert _refresh(client, winner["refresh_token"])[0] == 401


def test_logout_kills_the_refresh_token(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    response = client.post("/api/v1/auth/logout", headers=auth.bearer(pair["refresh_token"]))
    assert response.status_code == 204 and response.data == b""
    assert _refresh(client, pair["refresh_token"])[0] == 401
    assert client.post("/api/v1/auth/logout", headers=auth.bearer(pair["refresh_token"])).status_code == 204


def test_logout_after_rotation_ends_the_session(client: FlaskClient, auth: AuthActions) -> None:
    _, first = auth.registered_session("ada@example.com")
    _, second = _refresh(client, first["refresh_token"])
    assert client.post("/api/v1/auth/logout", headers=auth.bearer(second["refresh_token"])).status_code == 204
    assert _refresh(client, second["refresh_token"])[0] == 401


def test_a_deactivated_account_cannot_refresh(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    with app.app_context():
        db.session.execute(update(User).values(is_active=False))
        db.session.commit()
    assert _refresh(client, pair["refresh_token"])[0] == 401
    assert client.get("/api/v1/users/me", headers=auth.bearer(pair["access_token"])).status_code == 401


def test_refresh_carries_the_current_roles(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    with app.app_context():
        user = db.session.scalars(db.select(User)).one()
        user.set_roles(["customer", "vendor"])
        db.session.commit()
    _, renewed = _refresh(client, pair["refresh_token"])
    assert claims_of(renewed["access_token"])["roles"] == ["customer", "vendor"]


def test_the_access_token_carries_the_email_so_checkout_need_not_ask(auth: AuthActions) -> None:
    user, pair = auth.registered_session("ada@example.com")
    assert claims_of(pair["access_token"])["email"] == user["email"] == "ada@example.com"


def test_a_token_signed_with_the_previous_key_still_verifies(
        client: FlaskClient, auth: AuthActions, active_key: rsa.RSAPrivateKey, previous_key: rsa.RSAPrivateKey) -> None:
    user = auth.register("ada@example.com")
    token = _sign(_claims(user["id"]), previous_key)
    assert client.get("/api/v1/users/me", headers=auth.bearer(token)).status_code == 200
    kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json["keys"]]
    assert kids == [thumbprint(active_key.public_key()), thumbprint(previous_key.public_key())]


def test_the_jwks_follows_the_contract(client: FlaskClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    for key in response.json["keys"]:
        assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}
        assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")


def test_rotating_the_key_keeps_issued_tokens_valid(
        app: Flask, auth: AuthActions, settings: Settings, active_key: rsa.RSAPrivateKey) -> None:
    auth.register("ada@example.com")
    old_pair = auth.login("ada@example.com")
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rotated = create_app(settings.model_copy(update={"jwt_private_key": private_pem(new_key),
                                                     "jwt_previous_public_keys": jwks_of(active_key)}))
    try:
        rotated_client = rotated.test_client()
        assert rotated_client.get("/api/v1/users/me", headers=auth.bearer(old_pair["access_token"])).status_code == 200
        status = rotated_client.post("/api/v1/auth/refresh", headers=auth.bearer(old_pair["refresh_token"]))
        assert status.status_code == 200
        new_access = status.json["access_token"]
        assert jwt.get_unverified_header(new_access)["kid"] == thumbprint(new_key.public_key())
        assert rotated_client.get("/api/v1/users/me", headers=auth.bearer(new_access)).status_code == 200
        assert len(rotated_client.get("/.well-known/jwks.json").json["keys"]) == 2
    finally:
        with rotated.app_context():
            db.engine.dispose()


def test_a_verifier_fetching_the_jwks_over_http_accepts_this_services_tokens(app: Flask, auth: AuthActions) -> None:
    user, pair = auth.registered_session("ada@example.com")
    with serve_wsgi(app) as base_url:
        verifier = RemoteJwks(f"{base_url}/.well-known/jwks.json")
        header = jwt.get_unverified_header(pair["access_token"])
        key = verifier.key_for(header["kid"])
        assert key is not None
        claims = jwt.decode(pair["access_token"], key, algorithms=["RS256"], audience="storefront",
                            issuer=TEST_ISSUER)
        assert claims["sub"] == user["id"] and claims["type"] == "access"
        assert verifier.key_for("no-such-kid") is None
