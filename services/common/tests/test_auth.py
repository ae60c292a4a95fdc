from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from flask.testing import FlaskClient

from storefront_common.testing.tokens import SigningKey, TokenFactory
from storefront_common.timeutil import utcnow

USER = str(uuid.uuid4())


def _create(client: FlaskClient, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    return client.post("/api/v1/notes", json={"text": "hi"}, headers=headers).status_code


def _b64(data: dict) -> str:  # type: ignore[type-arg]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_access_token_is_accepted(client: FlaskClient, tokens: TokenFactory) -> None:
    assert _create(client, tokens.token(USER, ["customer"])) == 201


def test_missing_token_and_wrong_role(client: FlaskClient, tokens: TokenFactory) -> None:
    response = client.post("/api/v1/notes", json={"text": "hi"}, headers={"Idempotency-Key": "x"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert _create(client, tokens.token(USER, ["vendor"])) == 403


def _tampered(tokens: TokenFactory) -> str:
    header, payload, signature = tokens.token(USER, ["customer"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    return f"{header}.{_b64(claims)}.{signature}"


def _alg_none(tokens: TokenFactory) -> str:
    claims = tokens.claims(USER, ["customer"])
    claims.update(iat=int(claims["iat"].timestamp()), nbf=int(claims["nbf"].timestamp()),
                  exp=int(claims["exp"].timestamp()))
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': tokens.key.kid})}.{_b64(claims)}."


def _hs256_with_public_key(tokens: TokenFactory) -> str:
    claims = tokens.claims(USER, ["customer"])
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": tokens.key.kid})
    signing_input = f"{header}.{_b64({k: (int(v.timestamp()) if hasattr(v, 'timestamp') else v) for k, v in claims.items()})}"
    import hashlib
    import hmac
    signature = hmac.new(tokens.key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


BAD_TOKENS = {
    "tampered signature": _tampered,
    "alg none": _alg_none,
    "HS256 signed with the RSA public key": _hs256_with_public_key,
    "expired": lambda t: t.token(USER, ["customer"], exp=utcnow() - timedelta(seconds=60)),
    "wrong iss": lambda t: t.token(USER, ["customer"], iss="https://evil.example"),
    "wrong aud": lambda t: t.token(USER, ["customer"], aud="someone-else"),
    "unknown kid": lambda t: t.sign(t.claims(USER, ["customer"]), SigningKey()),
    "refresh token as access": lambda t: t.token(USER, ["customer"], type="refresh"),
    "no type claim": lambda t: t.sign({k: v for k, v in t.claims(USER, ["customer"]).items() if k != "type"}),
    "garbage": lambda t: "not.a.token",
}


@pytest.mark.parametrize("name", BAD_TOKENS)
def test_bad_tokens_get_401(client: FlaskClient, tokens: TokenFactory, name: str) -> None:
    token = BAD_TOKENS[name](tokens)
    assert _create(client, token) == 401
    response = client.get(f"/api/v1/notes/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["status"] == 401
    assert "WWW-Authenticate" in response.headers


def test_pyjwt_refuses_to_forge_hs256_with_a_pem_key(tokens: TokenFactory) -> None:
    # Guards the forging helper above: the library itself must refuse the classic key-confusion attack.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode({"sub": USER}, tokens.key.public_pem(), algorithm="HS256")


def test_another_users_resource_is_404(client: FlaskClient, tokens: TokenFactory) -> None:
    headers = {**tokens.headers(USER, ["customer"]), "Idempotency-Key": "own"}
    note_id = client.post("/api/v1/notes", json={"text": "mine"}, headers=headers).json["created"][0]["id"]
    assert client.get(f"/api/v1/notes/{note_id}", headers=tokens.headers(USER, ["customer"])).status_code == 200
    stranger = tokens.headers(str(uuid.uuid4()), ["customer"])
    assert client.get(f"/api/v1/notes/{note_id}", headers=stranger).status_code == 404


def test_a_service_token_on_a_users_endpoint_is_403_and_so_documented(client: FlaskClient,
                                                                         tokens: TokenFactory) -> None:
    response = client.get(f"/api/v1/notes/{uuid.uuid4()}", headers=tokens.headers("svc:orders", ["service"]))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert response.json["detail"] == "This endpoint is for user accounts."
    responses = client.get("/openapi.json").json["paths"]["/api/v1/notes/{note_id}"]["get"]["responses"]
    assert {"401", "403"} <= set(responses)
    assert responses["403"]["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_only_operations_behind_a_token_document_401_and_403(client: FlaskClient) -> None:
    listing = client.get("/openapi.json").json["paths"]["/api/v1/notes"]["get"]
    assert not {"401", "403"} & set(listing["responses"]) and "security" not in listing
