"""What the products service reaches at run time: its settings, database, the catalogue's read pool and the
listing cache."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from storefront_common.db import engine_options, make_db
from storefront_common.dependencies import Dependencies, Overrides, current, remote_jwks

from .listing_cache import ListingCache
from .settings import Settings

T = TypeVar("T")
db = make_db()


class CatalogReads:
    """A second pool for the public catalogue's read-only queries, in autocommit mode without pre-ping.

    Each catalogue read is one statement, so it needs no transaction: this saves the BEGIN, ROLLBACK and
    pre-ping round trips that a session request pays, three of the four round trips of a listing. A
    connection the server dropped is detected by the failing statement instead, and the read is retried
    once on a fresh one.
    """

    def __init__(self, database_url: str, pool_size: int) -> None:
        # SQLite (local runs) has no round trips to save, and a second pool could not see an in-memory
        # database: the session's engine serves there.
        self._engine: Engine | None = None if database_url.startswith("sqlite") else create_engine(
            database_url, isolation_level="AUTOCOMMIT", **engine_options(database_url, pool_size))

    @property
    def engine(self) -> Engine:
        return self._engine if self._engine is not None else db.engine

    def run(self, read: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection:
                    return read(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")


@dataclass(kw_only=True)
class ProductsDependencies(Dependencies):
    settings: Settings
    catalog_reads: CatalogReads
    listing_cache: ListingCache | None  # None: every listing is read from the database


def build_dependencies(settings: Settings, **overrides: Any) -> ProductsDependencies:
    given = Overrides(ProductsDependencies, overrides)
    seconds = settings.catalog_cache_seconds
    return ProductsDependencies(
        settings=settings, db=db, key_source=given.get("key_source", lambda: remote_jwks(settings)),
        catalog_reads=given.get("catalog_reads", lambda: CatalogReads(settings.database_url, settings.web_threads)),
        listing_cache=given.get("listing_cache", lambda: ListingCache(seconds) if seconds > 0 else None))


def deps() -> ProductsDependencies:
    return current(ProductsDependencies)
