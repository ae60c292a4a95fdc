"""Access and refresh tokens: issuing a pair, rotating a refresh token, revoking token families.

Only refresh tokens touch the database; access tokens stay stateless until they expire.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from storefront_common.auth import SERVICE_ROLE
from storefront_common.errors import ProblemError
from storefront_common.timeutil import utcnow

from . import store
from .models import RefreshToken, User

SESSION_CLAIM = "sid"


def _ttl(config_key: str) -> timedelta:
    ttl: timedelta = current_app.config[config_key]
    return ttl


def issue_token_pair(user: User, family_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A new access + refresh token; the refresh token is recorded in its family (the caller commits)."""
    family_id = family_id or uuid.uuid4()
    jti = uuid.uuid4()
    claims = {"roles": user.roles, SESSION_CLAIM: str(family_id)}
    # The email cannot be changed (the contract), so services that need it (orders, for Paystack)
    # read it from the token instead of asking users on every checkout.
    access_token = create_access_token(identity=str(user.id), additional_claims={**claims, "email": user.email})
    refresh_token = create_refresh_token(identity=str(user.id), additional_claims={**claims, "jti": str(jti)})
    refresh_ttl = _ttl("JWT_REFRESH_TOKEN_EXPIRES")
    store.add(RefreshToken(jti=jti, family_id=family_id, user_id=user.id, expires_at=utcnow() + refresh_ttl))
    access_ttl = _ttl("JWT_ACCESS_TOKEN_EXPIRES")
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer",
            "expires_in": int(access_ttl.total_seconds())}


def issue_service_token(client_id: str) -> dict[str, Any]:
    access_ttl = _ttl("JWT_ACCESS_TOKEN_EXPIRES")
    token = create_access_token(identity=f"svc:{client_id}", additional_claims={"roles": [SERVICE_ROLE]})
    return {"access_token": token, "token_type": "Bearer", "expires_in": int(access_ttl.total_seconds())}


def _refresh_jti(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims["jti"]))
    except (KeyError, ValueError):
        raise ProblemError(401, "Invalid token.") from None


def consume_refresh_token(claims: dict[str, Any]) -> RefreshToken:
    """Mark the presented refresh token used, exactly once.

    A token found already used is indistinguishable from theft (or from the loser of two concurrent
    refreshes with one token), so its family dies.
    """
    jti = _refresh_jti(claims)
    if store.mark_refresh_token_used(jti):
        token = store.get_refresh_token(jti)
        assert token is not None
        return token
    _revoke_family_of(jti)
    store.commit()
    raise ProblemError(401, "Refresh token is no longer valid; please log in again.",
                       headers={"WWW-Authenticate": 'Bearer realm="storefront"'})


def end_session(claims: dict[str, Any]) -> None:
    """Logout: the presented token's family is revoked, which kills that token and any rotated from it."""
    _revoke_family_of(_refresh_jti(claims))
    store.commit()


def _revoke_family_of(jti: uuid.UUID) -> None:
    family_id = store.refresh_token_family(jti)
    if family_id is not None:
        store.revoke_refresh_family(family_id)


def session_family(claims: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(claims[SESSION_CLAIM]))
    except (KeyError, ValueError):
        return None
