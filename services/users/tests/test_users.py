from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from services.users.tests.conftest import PASSWORD, AuthActions

NEW_PASSWORD = "a brand new secret"


def _admin_headers(auth: AuthActions) -> dict[str, str]:
    return auth.bearer(auth.admin()["access_token"])


def test_me_returns_the_current_user(client: FlaskClient, auth: AuthActions) -> None:
    user, pair = auth.registered_session("ada@example.com")
    response = client.get("/api/v1/users/me", headers=auth.bearer(pair["access_token"]))
    assert response.status_code == 200 and response.json == user


def test_patch_me_changes_only_what_is_sent(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com", phone="0801 234 5678")
    headers = auth.bearer(pair["access_token"])
    response = client.patch("/api/v1/users/me", json={"first_name": "Augusta"}, headers=headers)
    assert response.status_code == 200
    assert response.json["first_name"] == "Augusta" and response.json["last_name"] == "Lovelace"
    assert response.json["phone"] == "0801 234 5678"
    response = client.patch("/api/v1/users/me", json={"phone": None, "last_name": "King"}, headers=headers)
    assert response.json["phone"] is None and response.json["last_name"] == "King"
    assert client.get("/api/v1/users/me", headers=headers).json["last_name"] == "King"


def test_patch_me_refuses_protected_and_invalid_fields(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    headers = auth.bearer(pair["access_token"])
    for body in ({"roles": ["admin"]}, {"email": "new@example.com"}, {"email_verified": True},
                 {"first_name": None}, {"first_name": ""}, {"phone": "call me"}, {"business_name": "Shop"}):
        response = client.patch("/api/v1/users/me", json=body, headers=headers)
        assert response.status_code == 422, body
    me = client.get("/api/v1/users/me", headers=headers).json
    assert me["roles"] == ["customer"] and me["email"] == "ada@example.com" and me["business_name"] is None


def test_a_vendor_edits_but_cannot_clear_the_business_name(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("shop@example.com", role="vendor", business_name="Old Name")
    headers = auth.bearer(pair["access_token"])
    response = client.patch("/api/v1/users/me", json={"business_name": "New Name"}, headers=headers)
    assert response.status_code == 200 and response.json["business_name"] == "New Name"
    assert client.patch("/api/v1/users/me", json={"business_name": None}, headers=headers).status_code == 422


def test_me_needs_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/users/me").status_code == 401
    assert client.patch("/api/v1/users/me", json={"first_name": "X"}).status_code == 401
    assert client.put("/api/v1/users/me/password", json={}).status_code == 401


def test_patch_me_rejects_non_json(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    response = client.patch("/api/v1/users/me", data="{", content_type="application/json",
                            headers=auth.bearer(pair["access_token"]))
    assert response.status_code == 400


def test_changing_the_password_ends_the_other_sessions(client: FlaskClient, auth: AuthActions) -> None:
    _, this_session = auth.registered_session("ada@example.com")
    other_session = auth.login("ada@example.com")
    response = client.put("/api/v1/users/me/password", headers=auth.bearer(this_session["access_token"]),
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert client.post("/api/v1/auth/refresh", headers=auth.bearer(other_session["refresh_token"])).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=auth.bearer(this_session["refresh_token"])).status_code == 200
    assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}) \
        .status_code == 401
    auth.login("ada@example.com", NEW_PASSWORD)


def test_a_wrong_current_password_is_403_and_throttled(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    headers = auth.bearer(pair["access_token"])
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    for _ in range(5):
        assert client.put("/api/v1/users/me/password", json=wrong, headers=headers).status_code == 403
    response = client.put("/api/v1/users/me/password", headers=headers,
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_the_new_password_must_fit_the_policy(client: FlaskClient, auth: AuthActions) -> None:
    _, pair = auth.registered_session("ada@example.com")
    response = client.put("/api/v1/users/me/password", headers=auth.bearer(pair["access_token"]),
                          json={"current_password": PASSWORD, "new_password": "short"})
    assert response.status_code == 422


def test_admin_lists_users_with_search_role_filter_and_pages(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    for number in range(3):
        auth.register(f"customer{number}@example.com")
    auth.register("shop@example.com", role="vendor", business_name="Lagos Gadgets")
    headers = _admin_headers(auth)
    page = client.get("/api/v1/users?per_page=2&page=2", headers=headers).json
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 2, 5, 3)
    assert len(page["items"]) == 2 and "password_hash" not in page["items"][0]
    vendors = client.get("/api/v1/users?role=vendor", headers=headers).json
    assert [user["email"] for user in vendors["items"]] == ["shop@example.com"]
    assert vendors["items"][0]["is_active"] is True
    found = client.get("/api/v1/users?q=GADGET", headers=headers).json
    assert found["total"] == 1
    assert client.get("/api/v1/users?q=100%25", headers=headers).json["total"] == 0
    assert client.get("/api/v1/users?role=owner", headers=headers).status_code == 422
    assert client.get("/api/v1/users?per_page=101", headers=headers).status_code == 422


def test_only_admins_list_or_change_users(client: FlaskClient, auth: AuthActions) -> None:
    user, pair = auth.registered_session("ada@example.com")
    headers = auth.bearer(pair["access_token"])
    assert client.get("/api/v1/users").status_code == 401
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    response = client.patch(f"/api/v1/users/{user['id']}", json={"roles": ["admin"]}, headers=headers)
    assert response.status_code == 403
    assert client.patch(f"/api/v1/users/{user['id']}", json={"roles": ["admin"]}).status_code == 401


def test_admin_changes_roles_and_deactivates(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    user, pair = auth.registered_session("ada@example.com")
    headers = _admin_headers(auth)
    response = client.patch(f"/api/v1/users/{user['id']}", json={"roles": ["customer", "vendor"]}, headers=headers)
    assert response.status_code == 200 and response.json["roles"] == ["customer", "vendor"]
    response = client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=headers)
    assert response.status_code == 200 and response.json["is_active"] is False
    assert client.post("/api/v1/auth/refresh", headers=auth.bearer(pair["refresh_token"])).status_code == 401
    assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}) \
        .status_code == 401
    client.patch(f"/api/v1/users/{user['id']}", json={"is_active": True}, headers=headers)
    auth.login("ada@example.com")


def test_admin_patch_validation_and_unknown_ids(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    user = auth.register("ada@example.com")
    headers = _admin_headers(auth)
    for body in ({"roles": []}, {"roles": ["owner"]}, {"roles": ["customer", "customer"]},
                 {"is_active": "no"}, {"email": "x@example.com"}):
        assert client.patch(f"/api/v1/users/{user['id']}", json=body, headers=headers).status_code == 422, body
    assert client.patch(f"/api/v1/users/{uuid.uuid4()}", json={"is_active": False}, headers=headers) \
        .status_code == 404
    assert client.patch("/api/v1/users/not-a-uuid", json={"is_active": False}, headers=headers).status_code == 404


def test_an_admin_cannot_demote_or_deactivate_themself(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    headers = _admin_headers(auth)
    me = client.get("/api/v1/users/me", headers=headers).json
    assert client.patch(f"/api/v1/users/{me['id']}", json={"roles": ["customer"]}, headers=headers).status_code == 409
    assert client.patch(f"/api/v1/users/{me['id']}", json={"is_active": False}, headers=headers).status_code == 409
    response = client.patch(f"/api/v1/users/{me['id']}", json={"roles": ["admin", "vendor"]}, headers=headers)
    assert response.status_code == 200 and response.json["roles"] == ["admin", "vendor"]
