from __future__ import annotations

import threading

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from storefront_users.accounts import ensure_first_admin
from storefront_users.app import create_app
from storefront_users.dependencies import db, deps
from storefront_users.models import User
from storefront_users.settings import Settings
from services.users.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AuthActions


def _accounts(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_the_first_admin_is_created_at_start_up_once(
        app: Flask, client: FlaskClient, auth: AuthActions, settings: Settings) -> None:
    for _ in range(2):  # two restarts of the service against the migrated database
        restarted = create_app(settings)
        with restarted.app_context():
            db.engine.dispose()
    assert _accounts(app) == 1
    pair = auth.login(ADMIN_EMAIL.upper(), ADMIN_PASSWORD)
    me = client.get("/api/v1/users/me", headers=auth.bearer(pair["access_token"])).json
    assert me["roles"] == ["admin"] and me["email_verified"] is True


def test_replicas_starting_together_create_one_admin(app: Flask, client: FlaskClient) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def start_replica() -> None:
        with app.app_context():
            barrier.wait()
            try:
                ensure_first_admin(deps().settings)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start_replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and _accounts(app) == 1


def test_an_existing_account_with_the_admin_email_is_not_promoted(app: Flask, auth: AuthActions) -> None:
    auth.register(ADMIN_EMAIL)
    with app.app_context():
        ensure_first_admin(deps().settings)
        user = db.session.scalars(select(User)).one()
        assert user.roles == ["customer"]
