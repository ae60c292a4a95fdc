from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, inspect

from storefront_common.migrations import upgrade
from storefront_common.testing.databases import fresh_database
from storefront_users.app import create_app
from storefront_users.dependencies import db
from storefront_users.settings import Settings
from services.users.tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AuthActions

TABLES = {"users", "user_roles", "refresh_tokens", "one_time_tokens", "login_failures", "alembic_version"}


def _migrated_app(settings: Settings) -> Flask:
    app = create_app(settings)
    with app.app_context():
        upgrade(app)
        upgrade(app)  # a second run (next deploy) is a no-op
    return app


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_upgrade_postgresql_and_match_the_models(postgres_admin_url: str, settings: Settings) -> None:
    with fresh_database(postgres_admin_url, "users_migrations") as url:
        app = _migrated_app(settings.model_copy(update={"database_url": url}))
        assert _tables(url) == TABLES
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext
        with app.app_context(), db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            db.engine.dispose()
        assert differences == []


def test_migrations_upgrade_sqlite_and_the_service_works_there(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    local = settings.model_copy(update={"database_url": url, "smtp_host": "", "environment": "local"})
    app = _migrated_app(local)
    assert _tables(url) == TABLES
    client = app.test_client()
    auth = AuthActions(client)
    auth.register("ada@example.com")
    auth.register("bob@example.com")
    pair = auth.login("ADA@example.com")
    assert client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {pair['refresh_token']}"}) \
        .status_code == 200
    assert client.post("/api/v1/auth/register", json={"email": "ADA@example.com", "password": "long enough",
                                                      "first_name": "A", "last_name": "B"}).status_code == 409
    with app.app_context():
        db.engine.dispose()


def test_a_service_started_before_its_migrations_gets_its_first_admin_from_them(
        postgres_admin_url: str, settings: Settings) -> None:
    # In a cluster the pods start while the migration Job still runs: the start-up attempt finds no schema.
    with fresh_database(postgres_admin_url, "users_admin_after_migrate") as url:
        app = create_app(settings.model_copy(update={"database_url": url}))
        assert app.test_cli_runner().invoke(args=["migrate"]).exit_code == 0
        pair = AuthActions(app.test_client()).login(ADMIN_EMAIL, ADMIN_PASSWORD)
        assert pair["access_token"]
        with app.app_context():
            db.engine.dispose()
