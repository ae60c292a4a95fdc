"""What the products service reaches at run time: its settings, database, the catalogue's read pool and the
listing cache."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storefront_common.db import make_db
from storefront_common.dependencies import Dependencies, Overrides, current

from .listing_cache import ListingCache
from .settings import Settings

if TYPE_CHECKING:
    from .store import CatalogReads

db = make_db()


@dataclass(kw_only=True)
class ProductsDependencies(Dependencies):
    settings: Settings
    catalog_reads: CatalogReads
    listing_cache: ListingCache[tuple[bytes, str | None]] | None  # None: every listing is read from the database
    total_estimates: ListingCache[int] | None  # None: a total above the exact limit is estimated every time


def build_dependencies(settings: Settings, **overrides: Any) -> ProductsDependencies:
    from .store import CatalogReads  # here, not above: the store imports the models, which import db from here

    given = Overrides(ProductsDependencies, settings, db, overrides)
    seconds, estimate_seconds = settings.catalog_cache_seconds, settings.catalog_estimate_seconds
    return ProductsDependencies(
        **given.common(),
        catalog_reads=given.get("catalog_reads", lambda: CatalogReads(settings.database_url, settings.web_threads)),
        listing_cache=given.get("listing_cache", lambda: ListingCache(seconds) if seconds > 0 else None),
        total_estimates=given.get("total_estimates",
                                  lambda: ListingCache(estimate_seconds) if estimate_seconds > 0 else None))


def deps() -> ProductsDependencies:
    return current(ProductsDependencies)
