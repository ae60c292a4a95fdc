from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from storefront_common.testing.fuzz import ANONYMOUS, FuzzReport, HeadersFor, fuzz_service
from storefront_common.testing.servers import serve_wsgi
from services.users.tests.conftest import SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, AuthActions

OPERATIONS = {
    "POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout", "POST /api/v1/auth/verify-email/request", "POST /api/v1/auth/verify-email",
    "POST /api/v1/auth/password-reset", "POST /api/v1/auth/password-reset/confirm",
    "GET /api/v1/users/me", "PATCH /api/v1/users/me", "PUT /api/v1/users/me/password",
    "GET /api/v1/users", "PATCH /api/v1/users/{user_id}", "GET /.well-known/jwks.json",
    "POST /internal/auth/token",
}
REFRESH_TOKEN_PATHS = ("/api/v1/auth/refresh", "/api/v1/auth/logout")


def test_every_endpoint_is_documented_with_its_models(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    documented = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    assert documented == OPERATIONS
    register = spec["paths"]["/api/v1/auth/register"]["post"]
    assert register["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RegisterIn"}
    assert set(register["responses"]) == {"201", "400", "409", "413", "415", "422"}
    user_schema = spec["components"]["schemas"]["UserOut"]
    assert set(user_schema["properties"]) == {"id", "email", "first_name", "last_name", "phone", "roles",
                                              "business_name", "email_verified", "created_at"}
    login_responses = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login_responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TokenPairOut"}
    assert {"401", "403", "429"} <= set(login_responses)
    assert spec["paths"]["/api/v1/users"]["get"]["security"] == [{"bearerAuth": []}]


def test_every_answer_is_documented_for_every_caller(app: Flask, client: FlaskClient, auth: AuthActions,
                                                     fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    admin = auth.admin()
    service = auth.bearer(client.post("/internal/auth/token", json={
        "grant_type": "client_credentials", "client_id": SERVICE_CLIENT_ID,
        "client_secret": SERVICE_CLIENT_SECRET}).json["access_token"])
    callers = {"anonymous": ANONYMOUS,
               "customer": _user(auth.registered_session("fuzz@example.com")[1]),
               "vendor": _user(auth.registered_session("fuzz-vendor@example.com", role="vendor",
                                                       business_name="Fuzz Goods")[1]),
               "admin": _user(admin),
               "service": lambda method, path: service}
    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, callers)
    fuzz_note("users", report)
    report.assert_documented(len(OPERATIONS))


def _user(pair: dict[str, Any]) -> HeadersFor:
    """A user's headers: its refresh token where one is wanted, else its access token."""
    access, refresh = AuthActions.bearer(pair["access_token"]), AuthActions.bearer(pair["refresh_token"])
    return lambda method, path: refresh if path in REFRESH_TOKEN_PATHS else access
