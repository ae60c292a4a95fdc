from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from storefront_common.testing.servers import free_port
from storefront_common.timeutil import utcnow
from storefront_users.dependencies import db, deps
from storefront_users.models import OneTimeToken
from services.users.tests.conftest import PASSWORD, RESET_LINK, AuthActions, Mailbox

NEW_PASSWORD = "a brand new secret"


def _me(client: FlaskClient, access_token: str) -> dict[str, Any]:
    response = client.get("/api/v1/users/me", headers=AuthActions.bearer(access_token))
    assert response.status_code == 200
    return dict(response.json or {})


def _expire_tokens(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def test_registration_mails_a_verification_link(auth: AuthActions, mailbox: Mailbox) -> None:
    auth.register("ada@example.com")
    [mail] = mailbox.to("ada@example.com")
    assert mail["Subject"] == "Confirm your email address"
    assert "https://shop.storefront.test/verify-email?token=" in mail.get_content()


def test_verify_email_with_the_mailed_token(client: FlaskClient, auth: AuthActions, mailbox: Mailbox) -> None:
    _, pair = auth.registered_session("ada@example.com")
    mailbox.clear()
    response = client.post("/api/v1/auth/verify-email/request", headers=auth.bearer(pair["access_token"]))
    assert response.status_code == 202
    token = mailbox.token_for("ada@example.com")
    response = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 204
    assert _me(client, pair["access_token"])["email_verified"] is True
    again = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 422 and again.json["errors"][0]["field"] == "token"
    response = client.post("/api/v1/auth/verify-email/request", headers=auth.bearer(pair["access_token"]))
    assert response.status_code == 409


def test_verification_tokens_expire_and_unknown_ones_fail(app: Flask, client: FlaskClient, auth: AuthActions,
                                                          mailbox: Mailbox) -> None:
    _, pair = auth.registered_session("ada@example.com")
    token = mailbox.token_for("ada@example.com")
    _expire_tokens(app)
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 422
    assert client.post("/api/v1/auth/verify-email", json={"token": "made-up"}).status_code == 422
    assert client.post("/api/v1/auth/verify-email", json={}).status_code == 422
    assert _me(client, pair["access_token"])["email_verified"] is False


def test_verification_request_needs_a_user_token(client: FlaskClient) -> None:
    assert client.post("/api/v1/auth/verify-email/request").status_code == 401


def test_verification_request_reports_a_down_mail_server(app: Flask, client: FlaskClient, auth: AuthActions,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, pair = auth.registered_session("ada@example.com")
    with app.app_context():
        monkeypatch.setattr(deps().settings, "smtp_port", free_port())
    response = client.post("/api/v1/auth/verify-email/request", headers=auth.bearer(pair["access_token"]))
    assert response.status_code == 503 and "Retry-After" in response.headers


def test_password_reset_for_an_unknown_email_is_202_and_sends_nothing(client: FlaskClient, auth: AuthActions,
                                                                      mailbox: Mailbox) -> None:
    auth.register("ada@example.com")
    mailbox.clear()
    response = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
    assert response.status_code == 202
    # Reset mails leave in order, so once the next one has arrived, a mail for the first would have too.
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    mailbox.token_for("ada@example.com", RESET_LINK)
    assert [message["To"] for message in mailbox.messages] == ["ada@example.com"]


def test_password_reset_through_the_mailed_token(client: FlaskClient, auth: AuthActions, mailbox: Mailbox) -> None:
    _, old_session = auth.registered_session("ada@example.com")
    response = client.post("/api/v1/auth/password-reset", json={"email": "ADA@example.com"})
    assert response.status_code == 202
    token = mailbox.token_for("ada@example.com", RESET_LINK)
    confirm = {"token": token, "new_password": NEW_PASSWORD}
    assert client.post("/api/v1/auth/password-reset/confirm", json=confirm).status_code == 204
    assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}) \
        .status_code == 401
    new_session = auth.login("ada@example.com", NEW_PASSWORD)
    # Every refresh token issued before the reset is dead; the address is proven by the mail.
    assert client.post("/api/v1/auth/refresh", headers=auth.bearer(old_session["refresh_token"])).status_code == 401
    assert _me(client, new_session["access_token"])["email_verified"] is True
    reused = client.post("/api/v1/auth/password-reset/confirm", json={**confirm, "new_password": "yet another one"})
    assert reused.status_code == 422


def test_a_reset_token_expires(app: Flask, client: FlaskClient, auth: AuthActions, mailbox: Mailbox) -> None:
    auth.register("ada@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    token = mailbox.token_for("ada@example.com", RESET_LINK)
    _expire_tokens(app)
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 422
    auth.login("ada@example.com", PASSWORD)


def test_a_reset_token_is_not_a_verification_token(client: FlaskClient, auth: AuthActions, mailbox: Mailbox) -> None:
    auth.register("ada@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    reset_token = mailbox.token_for("ada@example.com", RESET_LINK)
    assert client.post("/api/v1/auth/verify-email", json={"token": reset_token}).status_code == 422


def test_reset_confirm_validates_the_new_password(client: FlaskClient, auth: AuthActions, mailbox: Mailbox) -> None:
    auth.register("ada@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    token = mailbox.token_for("ada@example.com", RESET_LINK)
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "short"})
    assert response.status_code == 422
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 204


def test_only_digests_of_one_time_tokens_are_stored(app: Flask, auth: AuthActions, mailbox: Mailbox) -> None:
    auth.register("ada@example.com")
    token = mailbox.token_for("ada@example.com")
    with app.app_context():
        stored = db.session.scalars(db.select(OneTimeToken.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
