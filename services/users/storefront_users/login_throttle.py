"""Login throttling: at most N failures per email in a sliding window, counted in the database.

Every attempt is recorded as a failure *before* the password is checked and counted afterwards, so
concurrent attempts against one email (from any replica) see each other: at most N get through.
A success deletes the email's failures.
"""
from __future__ import annotations

import math
import uuid
from datetime import timedelta

from storefront_common.errors import ProblemError
from storefront_common.timeutil import utcnow

from . import store
from .models import LoginFailure


def reserve_attempt(email_normalized: str, max_failures: int, window: timedelta) -> uuid.UUID:
    """Record the attempt as a failure; 429 with Retry-After when the window is already full."""
    now = utcnow()
    attempt = LoginFailure(email_normalized=email_normalized, failed_at=now)
    store.add(attempt)
    store.commit()
    earlier = store.login_failures_since(email_normalized, now - window, excluding=attempt.id)
    if len(earlier) >= max_failures:
        store.delete_login_failure(attempt.id)
        store.commit()
        # The attempt is allowed again once enough of the oldest failures have left the window.
        frees_at = earlier[len(earlier) - max_failures] + window
        retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
        raise ProblemError(429, "Too many failed attempts for this account. Try again later.",
                           headers={"Retry-After": str(retry_after)})
    return attempt.id


def clear_failures(email_normalized: str) -> None:
    """After a success (or a password reset) the email starts with a clean slate."""
    store.delete_login_failures(email_normalized)
    store.commit()
