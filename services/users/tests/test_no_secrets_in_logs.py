from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storefront_common.logging_setup import log_handler
from storefront_users.dependencies import db, deps
from storefront_users.models import User
from services.users.tests.conftest import (PASSWORD, RESET_LINK, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, AuthActions,
                                           Mailbox)


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = log_handler("users", "json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_no_password_hash_token_or_secret_reaches_a_log_line_or_response(
        app: Flask, client: FlaskClient, auth: AuthActions, mailbox: Mailbox, log_lines: io.StringIO) -> None:
    responses: list[str] = []
    auth.register("ada@example.com")
    verification_token = mailbox.token_for("ada@example.com")
    pair = auth.login("ada@example.com")
    refreshed = client.post("/api/v1/auth/refresh", headers=auth.bearer(pair["refresh_token"]))
    responses.append(refreshed.get_data(as_text=True))
    reused = client.post("/api/v1/auth/refresh", headers=auth.bearer(pair["refresh_token"]))
    responses.append(reused.get_data(as_text=True))
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    reset_token = mailbox.token_for("ada@example.com", RESET_LINK)
    responses.append(client.post("/api/v1/auth/password-reset/confirm",
                                 json={"token": reset_token, "new_password": "x"}).get_data(as_text=True))
    responses.append(client.post("/internal/auth/token", json={
        "grant_type": "client_credentials", "client_id": SERVICE_CLIENT_ID,
        "client_secret": SERVICE_CLIENT_SECRET + "typo"}).get_data(as_text=True))
    responses.append(client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "bad guess"})
                     .get_data(as_text=True))
    with app.app_context():
        password_hash = db.session.scalars(db.select(User.password_hash)).one()
    logged = log_lines.getvalue()
    assert "storefront.access" in logged  # the capture works: request lines are there
    secrets = [PASSWORD, "bad guess", password_hash, verification_token, reset_token, pair["refresh_token"],
               pair["access_token"], SERVICE_CLIENT_SECRET]
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in response for response in responses)


def test_without_smtp_outside_local_mode_the_mail_is_dropped_not_logged(
        app: Flask, auth: AuthActions, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        monkeypatch.setattr(deps().settings, "smtp_host", "")
    auth.register("ada@example.com")
    logged = log_lines.getvalue()
    assert "mail dropped" in logged and "token=" not in logged


def test_in_local_mode_without_smtp_the_mail_and_its_link_go_to_the_log(
        app: Flask, auth: AuthActions, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        monkeypatch.setattr(deps().settings, "smtp_host", "")
        monkeypatch.setattr(deps().settings, "environment", "local")
    auth.register("ada@example.com")
    assert "https://shop.storefront.test/verify-email?token=" in log_lines.getvalue()
