from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from storefront_common.migrations import alembic_config
from storefront_common.testing.databases import fresh_database
from storefront_payments.app import VERSIONS_DIR
from storefront_payments.dependencies import db


def migrate_and_compare(url: str) -> None:
    config = alembic_config(url, VERSIONS_DIR, db.metadata)
    command.upgrade(config, "head")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            assert {"accounts", "ledger_entries", "payments", "outbox", "webhook_events"} <= set(
                inspect(connection).get_table_names())
        _wallet_check_is_enforced(engine)
    finally:
        engine.dispose()
    command.downgrade(config, "base")
    command.upgrade(config, "head")


def _wallet_check_is_enforced(engine: object) -> None:
    insert = text("INSERT INTO accounts (id, code, kind, currency, balance, created_at) "
                  "VALUES (:id, :code, :kind, 'NGN', :balance, CURRENT_TIMESTAMP)")
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(insert, {"id": "0" * 32, "code": "paystack_clearing:NGN", "kind": "paystack_clearing",
                                    "balance": -5})
    with pytest.raises(IntegrityError), engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(insert, {"id": "1" * 32, "code": "wallet:x:NGN", "kind": "wallet", "balance": -1})
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("DELETE FROM accounts"))


def test_migrations_on_postgresql(postgres_admin_url: str) -> None:
    with fresh_database(postgres_admin_url, "payments_migrations") as url:
        migrate_and_compare(url)


def test_migrations_on_sqlite(tmp_path: Path) -> None:
    migrate_and_compare(f"sqlite:///{tmp_path / 'payments.db'}")
