"""Small helpers the users tests share: registering, logging in, bearer headers."""
from __future__ import annotations

from typing import Any

import jwt
from flask.testing import FlaskClient

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: FlaskClient, email: str, password: str = PASSWORD, **fields: Any) -> dict[str, Any]:
    body = {"email": email, "password": password, "first_name": "Ada", "last_name": "Lovelace", **fields}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.json
    return dict(response.json or {})


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return dict(response.json or {})


def registered_session(client: FlaskClient, email: str, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new account and a token pair for it."""
    user = register(client, email, **fields)
    return user, login(client, email)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
