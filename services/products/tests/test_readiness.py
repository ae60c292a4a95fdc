"""A pod is ready only once its schema is migrated: the chart starts the service's pods beside its migration
Job, and requests that reach a pod before the Job has run would fail on tables that do not exist yet."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import text

from storefront_common.dependencies import current
from storefront_common.migrations import alembic_config, upgrade
from storefront_common.testing.databases import fresh_database
from storefront_products.app import VERSIONS_DIR, create_app
from storefront_products.dependencies import ProductsDependencies, db
from storefront_products.settings import Settings


@pytest.fixture()
def unmigrated(settings: Settings, postgres_admin_url: str) -> Iterator[tuple[Settings, str]]:
    with fresh_database(postgres_admin_url, "products_ready") as url:
        yield settings.model_copy(update={"database_url": url}), url


def _ready(app: Flask) -> tuple[int, str]:
    response = app.test_client().get("/readyz")
    return response.status_code, response.get_json().get("detail", "")


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()
        current(ProductsDependencies, app).catalog_reads.engine.dispose()


def test_not_ready_until_migrated_then_ready(unmigrated: tuple[Settings, str]) -> None:
    settings, url = unmigrated
    app = create_app(settings)
    try:
        assert _ready(app) == (503, "The database schema is not migrated to this release yet.")
        with app.app_context():
            command.upgrade(alembic_config(url, VERSIONS_DIR, db.metadata), "0003")  # an older release's schema
        assert _ready(app)[0] == 503
        with app.app_context():
            upgrade(app)
        assert _ready(app) == (200, "")
        # Once ready, readiness does not ask again (the schema never goes back).
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
            db.session.commit()
        assert _ready(app)[0] == 200
    finally:
        _dispose(app)


def test_a_schema_migrated_by_a_newer_release_is_served(unmigrated: tuple[Settings, str]) -> None:
    """During a rollout the new release's Job migrates first; the old pods keep serving (migrations only add)."""
    settings, _ = unmigrated
    migrated_app = create_app(settings)
    with migrated_app.app_context():
        upgrade(migrated_app)
        db.session.execute(text("UPDATE alembic_version SET version_num = '0099_from_a_newer_release'"))
        db.session.commit()
    _dispose(migrated_app)
    app = create_app(settings)
    try:
        assert _ready(app) == (200, "")
    finally:
        _dispose(app)
