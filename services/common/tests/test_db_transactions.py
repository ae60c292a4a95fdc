"""own_transaction: one statement without BEGIN and COMMIT round trips, and never a leak of autocommit."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storefront_common.db import own_transaction
from storefront_common.testing.databases import fresh_database


@pytest.fixture()
def engine(postgres_admin_url: str) -> Iterator[Engine]:
    with fresh_database(postgres_admin_url, "transactions") as url:
        engine = create_engine(url, pool_size=1, max_overflow=0)  # one connection: every test reuses it
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE notes (id int PRIMARY KEY)"))
        yield engine
        engine.dispose()


def _autocommit(session: Session) -> bool:
    return bool(session.connection().connection.dbapi_connection.autocommit)  # type: ignore[union-attr]


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT id FROM notes ORDER BY id")))


def test_a_statement_outside_a_transaction_runs_in_autocommit_and_is_kept(engine: Engine) -> None:
    with Session(engine) as session:
        with own_transaction(session):
            inside = _autocommit(session)
            session.execute(text("INSERT INTO notes VALUES (1)"))
        assert inside and not session.in_transaction()
    assert _ids(engine) == [1]


def test_inside_an_open_transaction_it_joins_it_and_commits_both(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("INSERT INTO notes VALUES (1)"))
        with own_transaction(session):
            inside = _autocommit(session)
            session.execute(text("INSERT INTO notes VALUES (2)"))
    assert not inside and _ids(engine) == [1, 2]


def test_after_an_error_the_pooled_connection_is_back_to_transactions(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("INSERT INTO notes VALUES (1)"))
        session.commit()
        with pytest.raises(IntegrityError), own_transaction(session):
            session.execute(text("INSERT INTO notes VALUES (1)"))
        session.rollback()

    with Session(engine) as session:  # the same pooled connection: a rollback must still undo
        assert not _autocommit(session)
        session.execute(text("INSERT INTO notes VALUES (2)"))
        session.rollback()
    assert _ids(engine) == [1]
