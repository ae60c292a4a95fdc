"""Signing keys and tokens for suites of services that verify, but do not issue, tokens."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from jwt.algorithms import RSAAlgorithm

from ..client import ServiceTokenProvider
from ..timeutil import utcnow

TEST_ISSUER = "http://storefront.test"


@dataclass
class SigningKey:
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass
class TokenFactory:
    key: SigningKey
    issuer: str
    audience: str = "storefront"

    def claims(self, sub: str, roles: list[str], token_type: str = "access",
               ttl: timedelta = timedelta(minutes=15)) -> dict[str, Any]:
        now = utcnow()
        return {"iss": self.issuer, "aud": self.audience, "sub": sub, "roles": roles, "type": token_type,
                "jti": uuid.uuid4().hex, "iat": now, "nbf": now, "exp": now + ttl}

    def sign(self, claims: dict[str, Any], key: SigningKey | None = None) -> str:
        signer = key or self.key
        return jwt.encode(claims, signer.private_key, algorithm="RS256", headers={"kid": signer.kid})

    def token(self, sub: str | uuid.UUID, roles: list[str], **overrides: Any) -> str:
        claims = self.claims(str(sub), roles)
        claims.update(overrides)
        return self.sign(claims)

    def headers(self, sub: str | uuid.UUID, roles: list[str], **overrides: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, roles, **overrides)}"}


@dataclass
class Auth:
    """Bearer headers for each kind of caller, signed as the users service would sign them: the `auth` of the
    Flask tutorial's `app -> client -> auth` chain, for services that verify tokens but do not issue them.
    Each call without `user_id` is a new user."""

    tokens: TokenFactory

    def user(self, *roles: str, user_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.tokens.headers(user_id or uuid.uuid4(), list(roles))

    def customer(self, user_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.user("customer", user_id=user_id)

    def vendor(self, user_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.user("vendor", user_id=user_id)

    def admin(self, user_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.user("admin", user_id=user_id)

    def service(self, name: str) -> dict[str, str]:
        return self.tokens.headers(f"svc:{name}", ["service"])


def jwks_app(keys: list[SigningKey]) -> Flask:
    """A stand-in for the users service's JWKS endpoint, served over real HTTP by the tests."""
    app = Flask("jwks")

    @app.get("/.well-known/jwks.json")
    def jwks() -> Any:
        return jsonify(keys=[key.jwk() for key in keys])

    return app


class SignedServiceTokens(ServiceTokenProvider):
    """Service tokens for `service` signed by the test key, as the users service would issue them."""

    def __init__(self, factory: TokenFactory, service: str) -> None:
        self.factory = factory
        self.service = service

    def token(self) -> str:
        return self.factory.token(f"svc:{self.service}", ["service"])

    def invalidate(self) -> None:
        pass
