"""The two mails the service sends: verify your email, reset your password."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from . import store
from .dependencies import deps
from .mailer import Mail
from .models import RESET_PASSWORD, VERIFY_EMAIL, User
from .one_time_tokens import create_one_time_token


def _link(path: str, token: str) -> str:
    return f"{deps().settings.public_url.rstrip('/')}{path}?token={quote(token)}"


def send_verification_mail(user: User) -> None:
    """Raises MailError when the SMTP server refuses; the token is stored either way."""
    service = deps()
    ttl = timedelta(seconds=service.settings.verification_token_ttl_seconds)
    token = create_one_time_token(user.id, VERIFY_EMAIL, ttl)
    store.commit()
    text = (f"Hello {user.first_name},\n\n"
            f"Confirm your email address for Storefront by opening this link:\n{_link('/verify-email', token)}\n\n"
            f"Or send this token to POST /api/v1/auth/verify-email:\n{token}\n\n"
            f"The link expires in {ttl.total_seconds() / 3600:g} hours.\n")
    service.mailer.send(Mail(user.email, "Confirm your email address", text))


def send_password_reset_mail(user: User) -> None:
    service = deps()
    ttl = timedelta(seconds=service.settings.reset_token_ttl_seconds)
    token = create_one_time_token(user.id, RESET_PASSWORD, ttl)
    store.commit()
    text = (f"Hello {user.first_name},\n\n"
            f"Someone asked to reset your Storefront password. If it was you, open this link:\n"
            f"{_link('/reset-password', token)}\n\n"
            f"Or send this token to POST /api/v1/auth/password-reset/confirm:\n{token}\n\n"
            f"The link expires in {ttl.total_seconds() / 60:g} minutes. If it was not you, ignore this mail.\n")
    # In the background: a reset request must answer as fast for an unknown email as for a known one.
    service.mailer.send_in_background(Mail(user.email, "Reset your password", text))
