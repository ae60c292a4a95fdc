"""The one migration builds exactly the models' schema, on PostgreSQL and on SQLite, and downgrades."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from storefront_common.migrations import alembic_config
from storefront_common.testing.databases import fresh_database
from storefront_orders.app import VERSIONS_DIR
from storefront_orders.dependencies import db

TABLES = {"orders", "order_items", "idempotency_keys", "alembic_version"}


def check_round_trip(url: str) -> None:
    config = alembic_config(url, VERSIONS_DIR, db.metadata)
    command.upgrade(config, "head")
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_migrations_on_postgresql(postgres_admin_url: str) -> None:
    with fresh_database(postgres_admin_url, "orders_migrations") as url:
        check_round_trip(url)


def test_migrations_on_sqlite(tmp_path: Path) -> None:
    check_round_trip(f"sqlite:///{tmp_path / 'orders.db'}")
