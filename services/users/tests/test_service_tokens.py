from __future__ import annotations

from typing import Any

import jwt
from flask.testing import FlaskClient

from storefront_common.testing.tokens import TEST_ISSUER
from services.users.tests.conftest import SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, AuthActions


def _token(client: FlaskClient, **overrides: str) -> tuple[int, dict[str, Any]]:
    body = {"grant_type": "client_credentials", "client_id": SERVICE_CLIENT_ID,
            "client_secret": SERVICE_CLIENT_SECRET, **overrides}
    response = client.post("/internal/auth/token", json=body)
    return response.status_code, response.json


def test_client_credentials_give_a_service_token(client: FlaskClient) -> None:
    status, body = _token(client)
    assert status == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "svc:orders" and claims["roles"] == ["service"] and claims["type"] == "access"
    assert claims["iss"] == TEST_ISSUER and claims["aud"] == "storefront"


def test_wrong_secret_and_unknown_client_get_401_invalid_client(client: FlaskClient) -> None:
    for overrides in ({"client_secret": "not-the-secret"}, {"client_id": "stranger"},
                      {"client_id": "carts", "client_secret": "anything"}):
        status, problem = _token(client, **overrides)
        assert status == 401 and problem["error"] == "invalid_client"
        assert SERVICE_CLIENT_SECRET not in str(problem)


def test_only_the_client_credentials_grant_exists(client: FlaskClient) -> None:
    assert _token(client, grant_type="password")[0] == 422
    assert client.post("/internal/auth/token", json={"grant_type": "client_credentials"}).status_code == 422


def test_a_service_token_is_not_a_user(client: FlaskClient, auth: AuthActions) -> None:
    _, body = _token(client)
    response = client.get("/api/v1/users/me", headers=auth.bearer(body["access_token"]))
    assert response.status_code == 403
    assert response.json["detail"] == "This endpoint is for user accounts."
    assert client.get("/api/v1/users", headers=auth.bearer(body["access_token"])).status_code == 403
    request = client.post("/api/v1/auth/verify-email/request", headers=auth.bearer(body["access_token"]))
    assert request.status_code == 403
    paths = client.get("/openapi.json").json["paths"]
    assert "403" in paths["/api/v1/users/me"]["get"]["responses"]
    assert "403" in paths["/api/v1/auth/verify-email/request"]["post"]["responses"]
