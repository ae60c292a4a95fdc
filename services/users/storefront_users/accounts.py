"""Accounts: registration, login checks, password changes, the first admin, and how a user is shown."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from storefront_common.auth import current_user_id
from storefront_common.errors import ProblemError, conflict, validation_error
from storefront_common.timeutil import isoformat

from . import store
from .login_throttle import clear_failures, reserve_attempt
from .models import User
from .passwords import hash_password, needs_rehash, spend_verification_time, verify_password
from .settings import Settings

logger = logging.getLogger("storefront.users.accounts")
VENDOR = "vendor"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return store.find_user_by_email(normalize_email(email))


def current_account() -> User:
    """The account behind the access token; a deleted or deactivated account's token no longer works here."""
    user = store.get_user(current_user_id())
    if user is None or not user.is_active:
        raise ProblemError(401, "The account does not exist or is deactivated.",
                           headers={"WWW-Authenticate": 'Bearer realm="storefront"'})
    return user


def check_business_name(roles: list[str], business_name: str | None) -> None:
    """Vendors must have a business name; nobody else may have one."""
    if VENDOR in roles and not business_name:
        raise validation_error([{"field": "business_name", "message": "A vendor needs a business name."}])
    if VENDOR not in roles and business_name is not None:
        raise validation_error([{"field": "business_name", "message": "Only vendors have a business name."}])


def create_user(*, email: str, password: str, first_name: str, last_name: str, roles: list[str],
                phone: str | None = None, business_name: str | None = None,
                email_verified: bool = False) -> User:
    """Insert the account; 409 if the email (case-insensitively) is taken, even by a concurrent request."""
    user = User(email=email.strip(), email_normalized=normalize_email(email), password_hash=hash_password(password),
                first_name=first_name, last_name=last_name, phone=phone, business_name=business_name,
                email_verified=email_verified, is_active=True)
    user.set_roles(roles)
    store.add(user)
    try:
        store.commit()
    except IntegrityError:
        store.rollback()
        raise conflict("An account with this email already exists.") from None
    return user


def _invalid_credentials() -> ProblemError:
    return ProblemError(401, "Invalid email or password.", headers={"WWW-Authenticate": 'Bearer realm="storefront"'})


def authenticate(email: str, password: str, settings: Settings) -> User:
    """The user behind a login, or the same 401 for an unknown email and a wrong password."""
    email_key = normalize_email(email)
    reserve_attempt(email_key, settings.login_max_failures, timedelta(seconds=settings.login_failure_window_seconds))
    user = find_user_by_email(email_key)
    if user is None:
        spend_verification_time(password)
        raise _invalid_credentials()
    if not verify_password(user.password_hash, password):
        raise _invalid_credentials()
    clear_failures(email_key)
    if not user.is_active:
        raise ProblemError(401, "This account is deactivated.")
    if settings.require_verified_email and not user.email_verified:
        raise ProblemError(403, "Verify your email address before logging in.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        store.commit()
    return user


def change_password(user: User, current_password: str, new_password: str, settings: Settings,
                    keep_session: uuid.UUID | None) -> None:
    """Throttled like a login, since a stolen access token must not become a password oracle."""
    reserve_attempt(user.email_normalized, settings.login_max_failures,
                    timedelta(seconds=settings.login_failure_window_seconds))
    if not verify_password(user.password_hash, current_password):
        raise ProblemError(403, "The current password is wrong.")
    clear_failures(user.email_normalized)
    user.password_hash = hash_password(new_password)
    store.revoke_user_refresh_tokens(user.id, keep_family=keep_session)
    store.commit()


def ensure_first_admin(settings: Settings) -> None:
    """Create the configured admin if no account has that email; safe when replicas race at start-up."""
    if not settings.storefront_admin_email or not settings.storefront_admin_password:
        return
    existing = find_user_by_email(settings.storefront_admin_email)
    if existing is None:
        try:
            create_user(email=settings.storefront_admin_email, password=settings.storefront_admin_password,
                        first_name="Admin", last_name="Storefront", roles=["admin"], email_verified=True)
            logger.info("created the first admin account")
        except ProblemError:
            pass  # another replica created it a moment ago
        return
    if "admin" not in existing.roles:
        # Never promote an existing account: whoever registered that email first is not the operator.
        logger.warning("STOREFRONT_ADMIN_EMAIL belongs to an existing account without the admin role")


def user_out(user: User) -> dict[str, Any]:
    return {"id": str(user.id), "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
            "phone": user.phone, "roles": user.roles, "business_name": user.business_name,
            "email_verified": user.email_verified, "created_at": isoformat(user.created_at)}


def admin_user_out(user: User) -> dict[str, Any]:
    return {**user_out(user), "is_active": user.is_active}
