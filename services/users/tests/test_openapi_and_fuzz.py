from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from storefront_common.testing.fuzz import fuzz_service
from storefront_common.testing.servers import serve_wsgi
from storefront_users.accounts import ensure_first_admin
from storefront_users.extensions import users_extension
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET
from support import bearer, login, registered_session

OPERATIONS = {
    "POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout", "POST /api/v1/auth/verify-email/request", "POST /api/v1/auth/verify-email",
    "POST /api/v1/auth/password-reset", "POST /api/v1/auth/password-reset/confirm",
    "GET /api/v1/users/me", "PATCH /api/v1/users/me", "PUT /api/v1/users/me/password",
    "GET /api/v1/users", "PATCH /api/v1/users/{user_id}", "GET /.well-known/jwks.json",
    "POST /internal/auth/token",
}


def test_every_endpoint_is_documented_with_its_models(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    documented = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    assert documented == OPERATIONS
    register = spec["paths"]["/api/v1/auth/register"]["post"]
    assert register["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RegisterIn"}
    assert set(register["responses"]) == {"201", "400", "409", "422"}
    user_schema = spec["components"]["schemas"]["UserOut"]
    assert set(user_schema["properties"]) == {"id", "email", "first_name", "last_name", "phone", "roles",
                                              "business_name", "email_verified", "created_at"}
    login_responses = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login_responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TokenPairOut"}
    assert {"401", "403", "429"} <= set(login_responses)
    assert spec["paths"]["/api/v1/users"]["get"]["security"] == [{"bearerAuth": []}]


def test_fuzzing_every_endpoint_finds_no_server_error(app: Flask, client: FlaskClient) -> None:
    _, user_pair = registered_session(client, "fuzz@example.com")
    with app.app_context():
        ensure_first_admin(users_extension().settings)
    admin = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])
    service = bearer(client.post("/internal/auth/token", json={
        "grant_type": "client_credentials", "client_id": SERVICE_CLIENT_ID,
        "client_secret": SERVICE_CLIENT_SECRET}).json["access_token"])
    user, refresh = bearer(user_pair["access_token"]), bearer(user_pair["refresh_token"])

    def headers_for(method: str, path: str) -> dict[str, str]:
        if path.startswith("/internal/"):
            return service
        if path in ("/api/v1/auth/refresh", "/api/v1/auth/logout"):
            return refresh
        if path.startswith("/api/v1/users") and not path.startswith("/api/v1/users/me"):
            return admin
        return user

    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, headers_for, max_examples=10)
    assert len(report.operations) == len(OPERATIONS)
    assert report.calls >= 10 * len(OPERATIONS)
    assert report.server_errors == []
