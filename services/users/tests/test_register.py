from __future__ import annotations

import threading
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from storefront_common.testing.servers import serve_wsgi
from storefront_users.dependencies import db
from storefront_users.models import User
from services.users.tests.conftest import PASSWORD, AuthActions

USER_FIELDS = {"id", "email", "first_name", "last_name", "phone", "roles", "business_name", "email_verified",
               "created_at"}


def _register(client: FlaskClient, **overrides: object) -> tuple[int, dict[str, Any]]:
    body = {"email": "ada@example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace",
            **overrides}
    response = client.post("/api/v1/auth/register", json=body)
    return response.status_code, response.json


def test_register_returns_exactly_the_user_object(client: FlaskClient) -> None:
    status, user = _register(client, phone="+234 801 234 5678")
    assert status == 201
    assert set(user) == USER_FIELDS
    assert user["email"] == "ada@example.com" and user["roles"] == ["customer"]
    assert user["phone"] == "+234 801 234 5678" and user["business_name"] is None
    assert user["email_verified"] is False
    assert user["created_at"].endswith("Z")


def test_register_a_vendor_needs_a_business_name(client: FlaskClient) -> None:
    status, problem = _register(client, role="vendor")
    assert status == 422 and problem["errors"][0]["field"] == "business_name"
    status, user = _register(client, role="vendor", business_name="Ada's Engines")
    assert status == 201
    assert user["roles"] == ["vendor"] and user["business_name"] == "Ada's Engines"


def test_only_vendors_have_a_business_name(client: FlaskClient) -> None:
    status, problem = _register(client, business_name="Shop")
    assert status == 422 and problem["errors"][0]["field"] == "business_name"


def test_nobody_registers_as_admin(client: FlaskClient) -> None:
    status, problem = _register(client, role="admin")
    assert status == 422 and problem["errors"][0]["field"] == "role"


def test_email_is_unique_case_insensitively(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("Ada@Example.com")
    status, problem = _register(client, email="ada@EXAMPLE.com")
    assert status == 409 and problem["status"] == 409


def test_password_length_is_8_to_128(client: FlaskClient) -> None:
    assert _register(client, password="short7!")[0] == 422
    assert _register(client, password="x" * 129)[0] == 422
    assert _register(client, password="x" * 128)[0] == 201


def test_invalid_bodies(client: FlaskClient) -> None:
    assert _register(client, email="not-an-email")[0] == 422
    assert _register(client, first_name="")[0] == 422
    assert _register(client, first_name="Ada\x00")[0] == 422
    assert _register(client, email="ada\x00@example.com")[0] == 422
    assert _register(client, email="ada,eve@example.com")[0] == 422
    assert _register(client, email_verified=True)[0] == 422
    assert _register(client, roles=["admin"])[0] == 422
    response = client.post("/api/v1/auth/register", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert client.post("/api/v1/auth/register", json=["a list"]).status_code == 400


def test_the_password_is_stored_as_an_argon2id_hash(app: Flask, auth: AuthActions) -> None:
    auth.register("ada@example.com")
    with app.app_context():
        stored = db.session.scalars(db.select(User)).one().password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored


def test_concurrent_registrations_of_one_email_create_one_account(app: Flask, client: FlaskClient) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def attempt(base_url: str, email: str) -> None:
        body = {"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"}
        barrier.wait()
        statuses.append(requests.post(f"{base_url}/api/v1/auth/register", json=body, timeout=30).status_code)

    with serve_wsgi(app) as base_url:
        threads = [threading.Thread(target=attempt, args=(base_url, email))
                   for email in ("race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.COM")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
