"""Signed-in sessions: the cookie (Flask's signed session) carries only a random session id; the tokens
the users service issued stay in this service's database, so they never reach the browser, and logging
out deletes them here and revokes the refresh token at the users service.

The session id is replaced at every login (a cookie planted before login is worth nothing after it), and
the access token is refreshed when it is about to expire, one request at a time per session (the row is
locked), because users revokes a whole token family when a refresh token is presented twice."""
from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import g, session

from storefront_common.client import DependencyFailed
from storefront_common.timeutil import utcnow

from . import store
from .api import ApiProblem
from .dependencies import deps
from .models import WebSession

logger = logging.getLogger("storefront.web.sessions")
SESSION_ID = "sid"


class SignInRequired(Exception):
    """The page needs a signed-in user and there is none (or their session has just ended)."""


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str
    first_name: str
    roles: tuple[str, ...]

    def has(self, role: str) -> bool:
        return role in self.roles


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _session_hash() -> str | None:
    session_id = session.get(SESSION_ID)
    return _hash(session_id) if isinstance(session_id, str) and session_id else None


def sign_in(email: str, password: str) -> SignedIn:
    """Log in at the users service and start a new session (a new id, a new form token); ApiProblem if refused."""
    api = deps().api
    tokens = api.call("users", "POST", "/api/v1/auth/login", json={"email": email, "password": password})
    me = api.call("users", "GET", "/api/v1/users/me", token=tokens["access_token"])
    _forget_current()
    session.clear()  # rotation: nothing of the session before the login survives it
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    settings = deps().settings
    store.add_session(WebSession(
        id_hash=_hash(session_id), user_id=uuid.UUID(me["id"]), email=me["email"], first_name=me.get("first_name") or "",
        roles=" ".join(me.get("roles") or []), access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=now + timedelta(seconds=int(tokens.get("expires_in") or 60)),
        expires_at=now + timedelta(seconds=settings.session_ttl_seconds)))
    session[SESSION_ID] = session_id
    session.permanent = True
    g.pop("signed_in", None)
    return current_user()  # type: ignore[return-value]


def _forget_current() -> None:
    id_hash = _session_hash()
    if id_hash:
        store.delete_session(id_hash)


def sign_out() -> None:
    """End the session here and revoke its refresh token at the users service."""
    id_hash = _session_hash()
    row = store.find_session(id_hash) if id_hash else None
    if row is not None:
        refresh_token = row.refresh_token
        store.delete_session(row.id_hash)
        try:
            deps().api.call("users", "POST", "/api/v1/auth/logout", token=refresh_token)
        except (ApiProblem, DependencyFailed) as error:
            # The session is gone here either way; the token dies at its expiry (logged without the token).
            logger.warning("logout: the users service did not revoke the refresh token: %s", type(error).__name__)
    session.clear()
    g.pop("signed_in", None)


def _row() -> WebSession | None:
    id_hash = _session_hash()
    if not id_hash:
        return None
    row = store.find_session(id_hash)
    if row is not None and row.expires_at <= utcnow():
        store.delete_session(id_hash)
        return None
    return row


def current_user() -> SignedIn | None:
    if "signed_in" not in g:
        row = _row()
        g.signed_in = None if row is None else SignedIn(str(row.user_id), row.email, row.first_name,
                                                        tuple(row.roles.split()))
        store.rollback()  # ends the read transaction: the request holds no connection while it renders
    return g.signed_in  # type: ignore[no-any-return]


def require_user(role: str | None = None) -> SignedIn:
    user = current_user()
    if user is None:
        raise SignInRequired()
    if role is not None and not user.has(role):
        raise ApiProblem(403, "This page is for another kind of account.")
    return user


def _access_token(force_refresh: bool = False) -> str:
    id_hash = _session_hash()
    row = store.find_session(id_hash) if id_hash else None
    if row is None:
        raise SignInRequired()
    margin = timedelta(seconds=deps().settings.token_refresh_margin_seconds)
    if not force_refresh and row.access_expires_at - margin > utcnow():
        token = row.access_token
        store.rollback()
        return token
    return _refresh(row.id_hash, row.access_token if force_refresh else None)


def _refresh(id_hash: str, stale_token: str | None) -> str:
    """New tokens for the session; one refresh per session at a time. `stale_token`: the one that was refused."""
    row = store.find_session(id_hash, for_update=True)
    if row is None:
        store.rollback()
        raise SignInRequired()
    margin = timedelta(seconds=deps().settings.token_refresh_margin_seconds)
    if row.access_token != stale_token and row.access_expires_at - margin > utcnow():
        token = row.access_token  # another request refreshed it while this one waited for the lock
        store.commit()
        return token
    try:
        tokens = deps().api.call("users", "POST", "/api/v1/auth/refresh", token=row.refresh_token)
    except ApiProblem:
        store.rollback()
        store.delete_session(id_hash)  # refused: the refresh token is dead, and so is the session
        session.clear()
        g.pop("signed_in", None)
        raise SignInRequired() from None
    except DependencyFailed:
        store.rollback()
        raise
    row.access_token = tokens["access_token"]
    row.refresh_token = tokens["refresh_token"]
    row.access_expires_at = utcnow() + timedelta(seconds=int(tokens.get("expires_in") or 60))
    token = row.access_token
    store.commit()
    return token


def user_call(service: str, method: str, path: str, **kwargs: Any) -> Any:
    """A call to the public API as the signed-in user: refreshed once when the API says the token is stale."""
    try:
        return deps().api.call(service, method, path, token=_access_token(), **kwargs)
    except ApiProblem as problem:
        if problem.status != 401:
            raise
    return deps().api.call(service, method, path, token=_access_token(force_refresh=True), **kwargs)
