"""/api/v1/auth: register, login, refresh, logout, email verification, password reset."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint

from storefront_common.auth import auth_required, current_claims
from storefront_common.errors import ProblemError, conflict, unavailable, validation_error
from storefront_common.openapi import operation

from .. import store
from ..account_mail import send_password_reset_mail, send_verification_mail
from ..accounts import authenticate, check_business_name, create_user, current_account, find_user_by_email, user_out
from ..dependencies import deps
from ..issued_tokens import consume_refresh_token, end_session, issue_token_pair
from ..login_throttle import clear_failures
from ..mailer import MailError
from ..models import RESET_PASSWORD, VERIFY_EMAIL
from ..one_time_tokens import consume_one_time_token
from ..passwords import hash_password
from ..schemas import (LoginIn, PasswordResetConfirmIn, PasswordResetIn, RegisterIn, TokenPairOut, UserOut,
                       VerifyEmailIn)

logger = logging.getLogger("storefront.users.auth")
blueprint = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
ACCEPTED = {"status": "accepted"}
ACCEPTED_SCHEMA = {"type": "object", "properties": {"status": {"const": "accepted"}}}


def _invalid_one_time_token() -> ProblemError:
    return validation_error([{"field": "token", "message": "The token is invalid, expired or already used."}])


@blueprint.post("/register")
@operation("Create a customer or vendor account; a verification mail is sent", body=RegisterIn,
           response=UserOut, status=201, errors=(409,))
def register(body: RegisterIn) -> tuple[dict[str, Any], int]:
    check_business_name([body.role], body.business_name)
    user = create_user(email=body.email, password=body.password, first_name=body.first_name,
                       last_name=body.last_name, phone=body.phone, business_name=body.business_name,
                       roles=[body.role])
    try:
        send_verification_mail(user)
    except MailError:
        # The account exists; the user can ask for another mail (or reset the password, which verifies too).
        logger.warning("verification mail not sent after registration")
    return user_out(user), 201


@blueprint.post("/login")
@operation("Log in; the same 401 for an unknown email and a wrong password, 403 for an unverified email when "
           "REQUIRE_VERIFIED_EMAIL is on, 429 (Retry-After) after 5 failures for the email in 15 minutes",
           body=LoginIn, response=TokenPairOut, errors=(401, 403, 429))
def login(body: LoginIn) -> dict[str, Any]:
    user = authenticate(body.email, body.password, deps().settings)
    pair = issue_token_pair(user)
    store.commit()
    return pair


@blueprint.post("/refresh")
@auth_required(refresh=True)
@operation("Exchange a refresh token (Bearer) for a new pair; a reused refresh token revokes its family",
           response=TokenPairOut)
def refresh() -> dict[str, Any]:
    used = consume_refresh_token(current_claims())
    user = store.get_user(used.user_id)
    if user is None or not user.is_active:
        store.revoke_refresh_family(used.family_id)
        store.commit()
        raise ProblemError(401, "This account is deactivated.")
    pair = issue_token_pair(user, used.family_id)
    store.commit()
    return pair


@blueprint.post("/logout")
@auth_required(refresh=True)
@operation("End the session of a refresh token (Bearer): it and every token rotated from it stop working. "
           "Idempotent (204 again for an ended session). Access tokens stay valid until they expire.", status=204)
def logout() -> tuple[str, int]:
    end_session(current_claims())
    return "", 204


@blueprint.post("/verify-email/request")
@auth_required()
@operation("Mail a one-time email verification token (valid 48 h) to the current user; 409 if already "
           "verified, 503 if the mail server is down", status=202, response=ACCEPTED_SCHEMA, errors=(409, 503))
def request_email_verification() -> tuple[dict[str, Any], int]:
    user = current_account()
    if user.email_verified:
        raise conflict("The email address is already verified.")
    try:
        send_verification_mail(user)
    except MailError:
        raise unavailable("The mail server is unavailable.", retry_after=30) from None
    return ACCEPTED, 202


@blueprint.post("/verify-email")
@operation("Verify the email address with the mailed one-time token; an unknown, expired or used token is 422",
           body=VerifyEmailIn, status=204)
def verify_email(body: VerifyEmailIn) -> tuple[str, int]:
    user_id = consume_one_time_token(body.token, VERIFY_EMAIL)
    user = store.get_user(user_id) if user_id else None
    if user is None:
        store.rollback()
        raise _invalid_one_time_token()
    user.email_verified = True
    store.retire_one_time_tokens(user.id, VERIFY_EMAIL)
    store.commit()
    return "", 204


@blueprint.post("/password-reset")
@operation("Mail a password reset token if the account exists (always 202: no account enumeration)",
           body=PasswordResetIn, status=202, response=ACCEPTED_SCHEMA)
def request_password_reset(body: PasswordResetIn) -> tuple[dict[str, Any], int]:
    user = find_user_by_email(body.email)
    if user is not None and user.is_active:
        send_password_reset_mail(user)
    return ACCEPTED, 202


@blueprint.post("/password-reset/confirm")
@operation("Set a new password with the mailed reset token (valid 1 h, single use; otherwise 422). Every "
           "session of the account ends, and the email counts as verified", body=PasswordResetConfirmIn, status=204)
def confirm_password_reset(body: PasswordResetConfirmIn) -> tuple[str, int]:
    user_id = consume_one_time_token(body.token, RESET_PASSWORD)
    user = store.get_user(user_id) if user_id else None
    if user is None:
        store.rollback()
        raise _invalid_one_time_token()
    user.password_hash = hash_password(body.new_password)
    # The mail reached its owner, so the address is proven too.
    user.email_verified = True
    store.retire_one_time_tokens(user.id, RESET_PASSWORD)
    store.revoke_user_refresh_tokens(user.id)
    store.commit()
    clear_failures(user.email_normalized)
    return "", 204
