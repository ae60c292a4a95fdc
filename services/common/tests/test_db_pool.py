"""Pooled connections: an idle one that the server dropped is replaced unseen; a busy one is not pinged."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from storefront_common import db as storefront_db
from storefront_common.db import engine_options
from storefront_common.testing.databases import fresh_database


POOL_SIZE = 6


@pytest.fixture()
def engine(postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(storefront_db, "PING_AFTER_IDLE_SECONDS", 0.2)
    with fresh_database(postgres_admin_url, "pool") as url:
        engine = create_engine(url, **engine_options(url, pool_size=POOL_SIZE))
        yield engine
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _terminate(admin_url: str, pid: int) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_as_many_threads_as_the_pool_holds_reuse_their_connections(engine: Engine) -> None:
    """One connection per server thread, kept: no thread's request pays for a new PostgreSQL backend."""
    backends: set[int] = set()
    lock = threading.Lock()
    start = threading.Barrier(POOL_SIZE)

    def work() -> None:
        start.wait()
        for _ in range(20):
            with engine.connect() as connection:
                pid = int(connection.scalar(text("SELECT pg_backend_pid() FROM pg_sleep(0.005)")))
            with lock:
                backends.add(pid)
            time.sleep(0.005)  # the rest of the request, outside the database

    threads = [threading.Thread(target=work) for _ in range(POOL_SIZE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(backends) <= POOL_SIZE


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(engine: Engine,
                                                                      postgres_admin_url: str) -> None:
    dropped = _backend_pid(engine)
    _terminate(postgres_admin_url, dropped)
    time.sleep(0.3)

    assert _backend_pid(engine) != dropped  # no error reached the caller


def test_a_connection_used_moments_ago_is_trusted_and_one_error_renews_the_pool(
        engine: Engine, postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storefront_db, "PING_AFTER_IDLE_SECONDS", 60)
    dropped = _backend_pid(engine)
    _terminate(postgres_admin_url, dropped)

    with pytest.raises(OperationalError):  # not pinged: the request in flight sees the drop
        _backend_pid(engine)
    assert _backend_pid(engine) != dropped  # and the next one gets a fresh connection
