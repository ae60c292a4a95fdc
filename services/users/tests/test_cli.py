from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from storefront_common.timeutil import utcnow
from storefront_users.dependencies import db
from storefront_users.models import LoginFailure, OneTimeToken, RefreshToken
from services.users.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AuthActions


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_purge_deletes_only_what_can_no_longer_be_used(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.registered_session("ada@example.com")  # one live refresh token, one live verification token
    expiring = auth.login("ada@example.com")
    auth.register("bob@example.com")  # a second verification token, used below
    client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "wrong password"})
    client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": "wrong password"})
    past = utcnow() - timedelta(seconds=1)
    with app.app_context():
        jti = db.session.scalars(select(RefreshToken.jti).order_by(RefreshToken.issued_at.desc())).first()
        db.session.execute(update(RefreshToken).where(RefreshToken.jti == jti).values(expires_at=past))
        bob_token = db.session.scalars(select(OneTimeToken).order_by(OneTimeToken.created_at.desc())).first()
        assert bob_token is not None
        bob_token.used_at = utcnow()
        oldest_failure = db.session.scalars(select(LoginFailure).order_by(LoginFailure.failed_at)).first()
        assert oldest_failure is not None
        oldest_failure.failed_at = utcnow() - timedelta(minutes=16)
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["purge-expired-tokens"])
    assert result.exit_code == 0, result.output
    assert "refresh_tokens: 1 deleted" in result.output
    assert (_count(app, RefreshToken), _count(app, OneTimeToken), _count(app, LoginFailure)) == (1, 1, 1)
    assert client.post("/api/v1/auth/refresh", headers=auth.bearer(expiring["refresh_token"])).status_code == 401


def test_create_first_admin_command_is_idempotent(app: Flask, auth: AuthActions) -> None:
    for _ in range(2):
        assert app.test_cli_runner().invoke(args=["create-first-admin"]).exit_code == 0
    auth.login(ADMIN_EMAIL, ADMIN_PASSWORD)
