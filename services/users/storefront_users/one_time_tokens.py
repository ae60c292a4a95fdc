"""Random single-use tokens for email verification and password reset; only their SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from storefront_common.timeutil import utcnow

from .dependencies import db
from .models import OneTimeToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_one_time_token(user_id: uuid.UUID, purpose: str, ttl: timedelta) -> str:
    """Store the token's digest (the caller commits) and return the token itself, for the mail only."""
    token = secrets.token_urlsafe(32)
    db.session.add(OneTimeToken(purpose=purpose, token_hash=_digest(token), user_id=user_id,
                                expires_at=utcnow() + ttl))
    return token


def consume_one_time_token(token: str, purpose: str) -> uuid.UUID | None:
    """The owner's id if the token is valid, unexpired and unused; marks it used in the same statement."""
    now = utcnow()
    digest = _digest(token)
    marked = db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.token_hash == digest, OneTimeToken.purpose == purpose,
               OneTimeToken.used_at.is_(None), OneTimeToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.scalar(select(OneTimeToken.user_id).where(OneTimeToken.token_hash == digest))


def retire_user_tokens(user_id: uuid.UUID, purpose: str) -> None:
    """Older links stop working once one of them has been used."""
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user_id, OneTimeToken.purpose == purpose, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False))
