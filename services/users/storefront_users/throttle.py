"""Login throttling: at most N failures per email in a sliding window, counted in the database.

Every attempt is recorded as a failure *before* the password is checked and counted afterwards, so
concurrent attempts against one email (from any replica) see each other: at most N get through.
A success deletes the email's failures.
"""
from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from storefront_common.errors import ProblemError
from storefront_common.timeutil import utcnow

from .dependencies import db
from .models import LoginFailure


def reserve_attempt(email_normalized: str, max_failures: int, window: timedelta) -> uuid.UUID:
    """Record the attempt as a failure; 429 with Retry-After when the window is already full."""
    now = utcnow()
    attempt = LoginFailure(email_normalized=email_normalized, failed_at=now)
    db.session.add(attempt)
    db.session.commit()
    earlier = _failures_since(email_normalized, now - window, excluding=attempt.id)
    if len(earlier) >= max_failures:
        _delete(attempt.id)
        # The attempt is allowed again once enough of the oldest failures have left the window.
        frees_at = earlier[len(earlier) - max_failures] + window
        retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
        raise ProblemError(429, "Too many failed attempts for this account. Try again later.",
                           headers={"Retry-After": str(retry_after)})
    return attempt.id


def clear_failures(email_normalized: str) -> None:
    """After a success (or a password reset) the email starts with a clean slate."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email_normalized == email_normalized))
    db.session.commit()


def _failures_since(email_normalized: str, since: datetime, excluding: uuid.UUID) -> list[datetime]:
    statement = (select(LoginFailure.failed_at)
                 .where(LoginFailure.email_normalized == email_normalized, LoginFailure.failed_at > since,
                        LoginFailure.id != excluding)
                 .order_by(LoginFailure.failed_at))
    return list(db.session.scalars(statement))


def _delete(attempt_id: uuid.UUID) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    db.session.commit()
