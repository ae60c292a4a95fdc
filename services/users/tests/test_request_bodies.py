from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from services.users.tests.conftest import SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, AuthActions

# (method, path, who calls it): every operation that takes a JSON body.
BODY_OPERATIONS = [
    ("POST", "/api/v1/auth/register", None), ("POST", "/api/v1/auth/login", None),
    ("POST", "/api/v1/auth/verify-email", None), ("POST", "/api/v1/auth/password-reset", None),
    ("POST", "/api/v1/auth/password-reset/confirm", None), ("PATCH", "/api/v1/users/me", "user"),
    ("PUT", "/api/v1/users/me/password", "user"), ("PATCH", "/api/v1/users/{user_id}", "admin"),
    ("POST", "/internal/auth/token", None),
]


@pytest.fixture()
def callers(auth: AuthActions) -> dict[str, Any]:
    user, pair = auth.registered_session("ada@example.com")
    admin = auth.admin()
    return {"user": auth.bearer(pair["access_token"]), "admin": auth.bearer(admin["access_token"]),
            "user_id": user["id"]}


@pytest.mark.parametrize(("method", "path", "caller"), BODY_OPERATIONS)
def test_bodies_that_are_not_json_objects_are_400_and_bad_fields_422(
        client: FlaskClient, callers: dict[str, Any], method: str, path: str, caller: str | None) -> None:
    headers = callers[caller] if caller else {}
    url = path.format(user_id=callers["user_id"])
    for raw in ("{broken", "[1, 2]", "\"text\""):
        response = client.open(url, method=method, data=raw, content_type="application/json",
                               headers=headers)
        assert response.status_code == 400, raw
        assert response.mimetype == "application/problem+json"
    response = client.open(url, method=method, json={"unexpected": 1}, headers=headers)
    assert response.status_code == 422 and response.json["errors"]


def test_a_service_token_cannot_act_as_a_user(client: FlaskClient, auth: AuthActions) -> None:
    token = client.post("/internal/auth/token", json={
        "grant_type": "client_credentials", "client_id": SERVICE_CLIENT_ID,
        "client_secret": SERVICE_CLIENT_SECRET}).json["access_token"]
    assert client.post("/api/v1/auth/verify-email/request", headers=auth.bearer(token)).status_code == 403
    response = client.put("/api/v1/users/me/password", headers=auth.bearer(token),
                          json={"current_password": "whatever1", "new_password": "whatever2"})
    assert response.status_code == 403
    assert client.patch("/api/v1/users/me", json={"first_name": "Bot"}, headers=auth.bearer(token)).status_code == 403


def test_a_password_reset_needs_a_plausible_email(client: FlaskClient) -> None:
    assert client.post("/api/v1/auth/password-reset", json={"email": "not an email"}).status_code == 422
