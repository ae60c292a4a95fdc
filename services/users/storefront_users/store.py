"""Every SQL statement of the users service, as functions named for what they read or change.

No function here ends a transaction by itself: the domain modules and routes call commit() or rollback()
where their unit of work ends.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, or_, select, update

from storefront_common.pagination import paginate
from storefront_common.timeutil import utcnow

from .dependencies import db
from .models import LoginFailure, OneTimeToken, RefreshToken, User, UserRole
from .schemas import UserListQuery


def add(row: object) -> None:
    db.session.add(row)


def commit() -> None:
    db.session.commit()


def rollback() -> None:
    db.session.rollback()


# Accounts

def get_user(user_id: uuid.UUID) -> User | None:
    return db.session.get(User, user_id)


def find_user_by_email(email_normalized: str) -> User | None:
    return db.session.scalar(select(User).where(User.email_normalized == email_normalized))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _user_search(query: UserListQuery) -> Select[Any]:
    statement = select(User).order_by(User.created_at.desc(), User.id)
    if query.q:
        pattern = _like(query.q)
        statement = statement.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            User.email_normalized, User.first_name, User.last_name, User.business_name))))
    if query.role:
        statement = statement.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == query.role)))
    return statement


def user_page(query: UserListQuery, serialize: Callable[[User], dict[str, Any]]) -> dict[str, Any]:
    """The page of accounts matching the search, newest first."""
    return paginate(db.session, _user_search(query), query, serialize)


# Refresh tokens

def get_refresh_token(jti: uuid.UUID) -> RefreshToken | None:
    return db.session.get(RefreshToken, jti)


def mark_refresh_token_used(jti: uuid.UUID) -> bool:
    """True if this call marked the token used; False if it was used, revoked, expired or unknown.

    The conditional UPDATE is the guard: of two concurrent refreshes with one token, the second finds
    the row already used (rowcount 0).
    """
    now = utcnow()
    marked = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == jti, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None),
               RefreshToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    return marked.rowcount == 1  # type: ignore[attr-defined]


def refresh_token_family(jti: uuid.UUID) -> uuid.UUID | None:
    return db.session.scalar(select(RefreshToken.family_id).where(RefreshToken.jti == jti))


def revoke_refresh_family(family_id: uuid.UUID) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False))


def revoke_user_refresh_tokens(user_id: uuid.UUID, keep_family: uuid.UUID | None = None) -> None:
    statement = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep_family is not None:
        statement = statement.where(RefreshToken.family_id != keep_family)
    db.session.execute(statement.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


# One-time tokens

def mark_one_time_token_used(token_hash: str, purpose: str) -> bool:
    """True if the token was valid, unexpired and unused, and is now marked used (in the same statement)."""
    now = utcnow()
    marked = db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose,
               OneTimeToken.used_at.is_(None), OneTimeToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    return marked.rowcount == 1  # type: ignore[attr-defined]


def one_time_token_owner(token_hash: str) -> uuid.UUID | None:
    return db.session.scalar(select(OneTimeToken.user_id).where(OneTimeToken.token_hash == token_hash))


def retire_one_time_tokens(user_id: uuid.UUID, purpose: str) -> None:
    """Older links stop working once one of them has been used."""
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user_id, OneTimeToken.purpose == purpose, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False))


# Login failures

def login_failures_since(email_normalized: str, since: datetime, excluding: uuid.UUID) -> list[datetime]:
    """When the email's failures after `since` happened, oldest first, leaving out one attempt."""
    statement = (select(LoginFailure.failed_at)
                 .where(LoginFailure.email_normalized == email_normalized, LoginFailure.failed_at > since,
                        LoginFailure.id != excluding)
                 .order_by(LoginFailure.failed_at))
    return list(db.session.scalars(statement))


def delete_login_failure(attempt_id: uuid.UUID) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))


def delete_login_failures(email_normalized: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.email_normalized == email_normalized))


# Purge

def delete_unusable_rows(now: datetime, failures_before: datetime) -> dict[str, int]:
    """Deletes expired refresh and one-time tokens, used one-time tokens and login failures up to
    `failures_before`; the number deleted per table."""
    deleted = {
        "refresh_tokens": db.session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now)),
        "one_time_tokens": db.session.execute(delete(OneTimeToken).where(
            or_(OneTimeToken.expires_at <= now, OneTimeToken.used_at.is_not(None)))),
        "login_failures": db.session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= failures_before)),
    }
    return {table: result.rowcount for table, result in deleted.items()}  # type: ignore[attr-defined]
