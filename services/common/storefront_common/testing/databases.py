"""Throwaway PostgreSQL databases on the private test server."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url

from ..dependencies import Dependencies, current
from ..migrations import upgrade


@contextmanager
def fresh_database(admin_url: str, prefix: str = "test") -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(engine: Engine, metadata: MetaData) -> None:
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    if tables:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@contextmanager
def migrated(app: Flask) -> Iterator[Flask]:
    """The app on its database after its real migrations; its connection pool is closed afterwards."""
    with app.app_context():
        upgrade(app)
    yield app
    with app.app_context():
        current(Dependencies, app).db.engine.dispose()


@contextmanager
def recorded_statements(app: Flask, words: int = 3, transactions: bool = False) -> Iterator[list[str]]:
    """The statements the app's engine sends meanwhile, each cut to its first `words` words; with
    `transactions`, the BEGIN, COMMIT and ROLLBACK that psycopg2 sends too (none in autocommit).
    For tests that pin what a request costs in round trips."""
    seen: list[str] = []

    def statement(connection: Connection, _cursor: Any, sql: str, *_: Any) -> None:
        if transactions and not _in_transaction(connection) and not _autocommit(connection):
            seen.append("BEGIN")  # psycopg2 opens the transaction just before the statement
        seen.append(" ".join(sql.split()[:words]))

    def ending(word: str) -> Callable[[Connection], None]:
        return lambda connection: seen.append(word) if _in_transaction(connection) else None

    listeners: dict[str, Callable[..., None]] = {"before_cursor_execute": statement}
    if transactions:
        listeners.update({"commit": ending("COMMIT"), "rollback": ending("ROLLBACK")})
    with app.app_context():
        engine = current(Dependencies, app).db.engine
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners.items():
            event.remove(engine, name, listener)


def _in_transaction(connection: Connection) -> bool:
    return bool(connection.connection.dbapi_connection.get_transaction_status() != TRANSACTION_STATUS_IDLE)


def _autocommit(connection: Connection) -> bool:
    return bool(connection.connection.dbapi_connection.autocommit)
