"""Remembered tokens: a token verified once is cheap the next time, but never outlives its expiry or key."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import Flask
from flask.testing import FlaskClient

from storefront_common.auth import StaticKeys, auth_required, current_claims, init_jwt
from storefront_common.testing.tokens import TEST_ISSUER, SigningKey, TokenFactory
from storefront_common.timeutil import utcnow

USER = str(uuid.uuid4())


def _app(keys: dict[str, RSAPublicKey]) -> FlaskClient:
    app = Flask("token-cache")
    init_jwt(app, TEST_ISSUER, "storefront", StaticKeys(lambda: keys))

    @app.get("/me")
    @auth_required()
    def me() -> dict[str, Any]:
        return {"sub": current_claims()["sub"]}

    return app.test_client()


def _status(client: FlaskClient, token: str) -> int:
    return client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    key = SigningKey()
    client = _app({key.kid: key.private_key.public_key()})
    # Expired 4 s ago: still inside the 5 s leeway, for about one more second.
    token = TokenFactory(key, TEST_ISSUER).token(USER, ["customer"], exp=utcnow() - timedelta(seconds=4))
    assert _status(client, token) == 200
    assert _status(client, token) == 200
    time.sleep(1.2)
    response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["detail"] == "Token has expired."


def test_a_remembered_token_is_refused_once_its_key_is_withdrawn() -> None:
    key = SigningKey()
    keys = {key.kid: key.private_key.public_key()}
    client = _app(keys)
    token = TokenFactory(key, TEST_ISSUER).token(USER, ["customer"])
    assert _status(client, token) == 200

    keys.clear()
    assert _status(client, token) == 401
    keys[key.kid] = SigningKey(kid=key.kid).private_key.public_key()  # same kid, another key
    assert _status(client, token) == 401
    keys[key.kid] = key.private_key.public_key()  # the same key, fetched again as a new object
    assert _status(client, token) == 200


def test_claims_of_a_remembered_token_cannot_be_changed_by_a_request() -> None:
    key = SigningKey()
    app = Flask("token-cache")
    init_jwt(app, TEST_ISSUER, "storefront", StaticKeys(lambda: {key.kid: key.private_key.public_key()}))

    @app.get("/meddle")
    @auth_required()
    def meddle() -> dict[str, Any]:
        roles = list(current_claims()["roles"])
        current_claims()["roles"] = ["admin"]
        return {"roles": roles}

    token = TokenFactory(key, TEST_ISSUER).token(USER, ["customer"])
    client = app.test_client()
    for _ in range(2):
        response = client.get("/meddle", headers={"Authorization": f"Bearer {token}"})
        assert response.json == {"roles": ["customer"]}
