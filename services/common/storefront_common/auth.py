"""Token verification from a JWKS (RS256 only) and the role checks built on it."""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import Flask, Response
from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request
from jwt.algorithms import RSAAlgorithm

from .errors import ProblemError, problem_response
from .openapi import declare_responses

logger = logging.getLogger("storefront.auth")
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti", "type")
SERVICE_ROLE = "service"
CLOCK_LEEWAY_SECONDS = 5
VERIFIED_TOKEN_CACHE_SIZE = 4096
F = TypeVar("F", bound=Callable[..., Any])


class KeySource(Protocol):
    def key_for(self, kid: str) -> RSAPublicKey | None: ...


def public_key_from_jwk(jwk: dict[str, Any]) -> RSAPublicKey:
    key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    if not isinstance(key, RSAPublicKey):
        raise ValueError("JWKS entry is not an RSA public key")
    return key


class RemoteJwks:
    """Keys fetched from a JWKS URL, cached, with one re-fetch when an unknown kid shows up."""

    def __init__(self, url: str, cache_seconds: int = 300, min_refetch_seconds: float = 5.0,
                 timeout: float = 3.0) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.timeout = timeout
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> RSAPublicKey | None:
        if time.monotonic() - self._fetched_at > self.cache_seconds:
            self._refresh()
        key = self._keys.get(kid)
        # Rate-limit re-fetches so a flood of forged kids cannot hammer the users service.
        if key is None and time.monotonic() - self._fetched_at > self.min_refetch_seconds:
            self._refresh()
            key = self._keys.get(kid)
        return key

    def _refresh(self) -> None:
        with self._lock:
            try:
                response = requests.get(self.url, timeout=self.timeout)
                response.raise_for_status()
                keys = {jwk["kid"]: public_key_from_jwk(jwk) for jwk in response.json()["keys"]
                        if jwk.get("kty") == "RSA" and "kid" in jwk}
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                logger.warning("could not fetch JWKS", extra={"jwks_url": self.url, "error": type(exc).__name__})
                self._fetched_at = time.monotonic()
                return
            self._keys = keys
            self._fetched_at = time.monotonic()


class StaticKeys:
    """Keys known in-process (the users service verifies with the keys it publishes)."""

    def __init__(self, keys: Callable[[], dict[str, RSAPublicKey]]) -> None:
        self._keys = keys

    def key_for(self, kid: str) -> RSAPublicKey | None:
        return self._keys().get(kid)


def _unauthorized(detail: str) -> Response:
    return problem_response(
        {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail},
        401,
        {"WWW-Authenticate": 'Bearer realm="storefront"'},
    )


class CachingJWTManager(JWTManager):
    """Remembers tokens it has fully verified, so a token seen again costs a dictionary lookup.

    A checkout presents the same user or service token to four services, each of which would
    otherwise parse it three times and check its RSA signature. A remembered token is still refused
    once it expires (same leeway) or once its key leaves the key source (rotation, revocation).
    The override hooks flask-jwt-extended's decode step (pinned version; its tests cover it).
    """

    def __init__(self, app: Flask | None = None, cache_size: int = VERIFIED_TOKEN_CACHE_SIZE) -> None:
        super().__init__(app)
        self._verify_fully = functools.lru_cache(maxsize=cache_size)(self._verify_token)

    def _verify_token(self, encoded_token: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
        claims = super()._decode_jwt_from_config(encoded_token)
        header = jwt.get_unverified_header(encoded_token)
        return claims, header, self._decode_key_callback(header, claims)

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value: Any = None,
                                allow_expired: bool = False) -> dict[str, Any]:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        claims, header, key = self._verify_fully(encoded_token)
        still_valid = time.time() <= claims["exp"] + CLOCK_LEEWAY_SECONDS
        if not still_valid or self._decode_key_callback(header, claims) != key:
            return super()._decode_jwt_from_config(encoded_token)  # raises the precise error
        return dict(claims)


def init_jwt(app: Flask, issuer: str, audience: str, key_source: KeySource) -> JWTManager:
    app.config.update(
        JWT_ALGORITHM="RS256",
        JWT_DECODE_ALGORITHMS=["RS256"],
        JWT_DECODE_ISSUER=issuer,
        JWT_DECODE_AUDIENCE=audience,
        JWT_ENCODE_ISSUER=issuer,
        JWT_ENCODE_AUDIENCE=audience,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_IDENTITY_CLAIM="sub",
        # Clocks of pods drift a little and `iat` is whole seconds; a few seconds of leeway is the norm.
        JWT_DECODE_LEEWAY=CLOCK_LEEWAY_SECONDS,
    )
    manager = CachingJWTManager(app)

    @manager.decode_key_loader
    def _decode_key(header: dict[str, Any], claims: dict[str, Any]) -> RSAPublicKey:
        missing = [claim for claim in REQUIRED_CLAIMS if claim not in claims]
        if missing:
            raise jwt.InvalidTokenError(f"token lacks claims: {', '.join(missing)}")
        if header.get("alg") != "RS256":
            raise jwt.InvalidAlgorithmError("only RS256 tokens are accepted")
        key = key_source.key_for(str(header.get("kid", "")))
        if key is None:
            raise jwt.InvalidTokenError("token signed with an unknown key")
        return key

    manager.unauthorized_loader(lambda reason: _unauthorized("Missing bearer token."))
    manager.invalid_token_loader(lambda reason: _unauthorized("Invalid token."))
    manager.expired_token_loader(lambda header, claims: _unauthorized("Token has expired."))
    manager.revoked_token_loader(lambda header, claims: _unauthorized("Token has been revoked."))
    manager.needs_fresh_token_loader(lambda header, claims: _unauthorized("Fresh token required."))
    manager.token_verification_failed_loader(lambda header, claims: _unauthorized("Invalid token."))
    manager.user_lookup_error_loader(lambda header, claims: _unauthorized("Unknown user."))
    return manager


def current_claims() -> dict[str, Any]:
    return get_jwt()


def current_user_id() -> uuid.UUID:
    try:
        return uuid.UUID(str(get_jwt()["sub"]))
    except ValueError:
        raise ProblemError(403, "This endpoint is for user accounts.") from None


def current_roles() -> set[str]:
    return set(get_jwt().get("roles") or [])


def has_role(*roles: str) -> bool:
    return bool(current_roles() & set(roles))


def auth_required(*roles: str, refresh: bool = False) -> Callable[[F], F]:
    """Require a valid token (401 otherwise) and the caller it may name (403 otherwise).

    With roles, a token holding at least one of them; without, any user account's access token: a service
    token is refused here, before the view runs. `refresh=True` wants a refresh token (only users hold them).
    Both statuses go into the operation's OpenAPI document.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request(refresh=refresh)
            if roles and not has_role(*roles):
                raise ProblemError(403, "Your role does not allow this action.")
            if not roles and not refresh:
                current_user_id()  # 403 for a service token
            return view(*args, **kwargs)

        wrapper._auth = {"roles": list(roles), "refresh": refresh}  # type: ignore[attr-defined]
        declare_responses(wrapper, 401, *(() if refresh else (403,)))
        return wrapper  # type: ignore[return-value]

    return decorator


def service_required(view: F) -> F:
    """Internal endpoints: only a service token (client credentials) may call them."""
    return auth_required(SERVICE_ROLE)(view)
