"""Random single-use tokens for email verification and password reset; only their SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from storefront_common.timeutil import utcnow

from . import store
from .models import OneTimeToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_one_time_token(user_id: uuid.UUID, purpose: str, ttl: timedelta) -> str:
    """Store the token's digest (the caller commits) and return the token itself, for the mail only."""
    token = secrets.token_urlsafe(32)
    store.add(OneTimeToken(purpose=purpose, token_hash=_digest(token), user_id=user_id,
                           expires_at=utcnow() + ttl))
    return token


def consume_one_time_token(token: str, purpose: str) -> uuid.UUID | None:
    """The owner's id if the token is valid, unexpired and unused; marks it used in the same statement."""
    digest = _digest(token)
    if not store.mark_one_time_token_used(digest, purpose):
        return None
    return store.one_time_token_owner(digest)
