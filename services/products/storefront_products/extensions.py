"""The service's Flask extensions, created once and bound in create_app."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from storefront_common.db import engine_options, make_db

T = TypeVar("T")
db = make_db()


class CatalogReads:
    """A second pool for the public catalogue's read-only queries, in autocommit mode without pre-ping.

    Each catalogue read is one statement, so it needs no transaction: this saves the BEGIN, ROLLBACK and
    pre-ping round trips that a session request pays, three of the four round trips of a listing. A
    connection the server dropped is detected by the failing statement instead, and the read is retried
    once on a fresh one.
    """

    extension_name = "storefront_products_catalog_reads"

    def init_app(self, app: Flask, database_url: str, pool_size: int) -> None:
        # SQLite (local runs) has no round trips to save, and a second pool could not see an in-memory
        # database: the session's engine serves there.
        app.extensions[self.extension_name] = None if database_url.startswith("sqlite") else create_engine(
            database_url, isolation_level="AUTOCOMMIT", **engine_options(database_url, pool_size))

    @property
    def engine(self) -> Engine:
        engine: Engine | None = current_app.extensions[self.extension_name]
        return engine if engine is not None else db.engine

    def run(self, read: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection:
                    return read(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")


catalog_reads = CatalogReads()
