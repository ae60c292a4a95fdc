"""Database pieces every service shares: the SQLAlchemy extension, column types and engine options."""
from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Table, TextClause, Uuid, bindparam, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session
from sqlalchemy.pool import Pool
from sqlalchemy.sql.selectable import TextualSelect
from sqlalchemy.types import TypeDecorator

from .timeutil import utcnow

PING_AFTER_IDLE_SECONDS = 1.0

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_db(*, expire_on_commit: bool = True) -> SQLAlchemy:
    """A fresh extension (and metadata) per service, so services never share tables."""

    class ServiceBase(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return SQLAlchemy(model_class=ServiceBase, session_options={"expire_on_commit": expire_on_commit})


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


@functools.cache
def insert_on_conflict(table: Table, columns: tuple[str, ...] | None = None, *, conflict: tuple[str, ...] = (),
                       update: str | None = None, returning: tuple[str, ...] = ()) -> TextClause | TextualSelect:
    """INSERT of one row (`columns`, default all) that on a clash with a unique key (`conflict`, default any)
    does nothing, or with `update` sets that column to the new row's; `returning` the row's columns.

    Written out as text, in the syntax PostgreSQL and SQLite share: SQLAlchemy 2.0 caches no compiled form
    of its dialects' insert().on_conflict_do_*(), and compiling one on every request cost more than running it.
    """
    names = columns or tuple(table.columns.keys())
    action = f"DO UPDATE SET {update} = excluded.{update}" if update else "DO NOTHING"
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + name for name in names)})"
           f" ON CONFLICT {'(' + ', '.join(conflict) + ') ' if conflict else ''}{action}")
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    statement = text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in names))
    return statement.columns(*(table.c[name] for name in returning)) if returning else statement


def engine_options(database_url: str, pool_size: int) -> dict[str, Any]:
    """`pool_size` is the server's threads per worker: a pool smaller than that closes the connection a
    busy thread returns and opens another for the next request (a new PostgreSQL backend each time)."""
    if database_url.startswith("sqlite"):
        # Several local processes share one file: wait for the write lock instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": pool_size, "max_overflow": 10, "pool_recycle": 1800}


@contextmanager
def autocommit(connection: Connection) -> Iterator[None]:
    """On psycopg2, autocommit spares the BEGIN and COMMIT round trips a single statement does not need.

    psycopg2's own switch rather than isolation_level="AUTOCOMMIT": SQLAlchemy resets that on check-in with a
    SET statement, a round trip of its own. The switch is turned back before the caller commits, so the
    connection never returns to the pool in autocommit.
    """
    driver: Any = connection.connection.dbapi_connection
    if connection.dialect.driver != "psycopg2" or driver is None:
        yield
        return
    driver.autocommit = True
    try:
        yield
    finally:
        if not driver.closed:
            driver.autocommit = False


@contextmanager
def own_transaction(session: Session | scoped_session[Any]) -> Iterator[None]:
    """Run the block (one statement, or reads that need no snapshot together) and commit it.

    With no transaction open, the block runs in autocommit: 2 round trips fewer than BEGIN … COMMIT.
    Inside an open transaction it joins that transaction, which is then committed as before.
    On an error nothing is committed; the caller rolls back as usual.
    """
    current = session() if isinstance(session, scoped_session) else session
    if current.in_transaction():
        yield
    else:
        with autocommit(current.connection()):
            yield
    current.commit()


# Pooled connections are checked before use only when they have sat idle, not on every checkout
# (HikariCP does the same with its `aliveBypassWindowMs`): `pool_pre_ping` costs a round trip per
# transaction, and a checkout makes about a dozen (about 5% of checkout throughput, measured). A
# connection used within the last second is almost surely alive; if the server went away in between,
# that request fails and SQLAlchemy invalidates the whole pool on the error, so the next ones reconnect.
@event.listens_for(Pool, "checkin")
def _stamp_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # the SELECT opened a transaction; the connection goes out clean
    except Exception as error:
        raise DisconnectionError() from error  # the pool replaces the connection and tries again


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
