"""The products service's app factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from storefront_common.app import create_service_app
from storefront_common.auth import KeySource

from . import models  # noqa: F401  (the tables must be known to the metadata before migrations run)
from .cli import expire_reservations_command, seed_demo_command
from .extensions import catalog_reads, db
from .listing_cache import EXTENSION_NAME as LISTING_CACHE
from .listing_cache import ListingCache
from .routes import categories, inventory, products, reservations, reviews
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, key_source: KeySource | None = None) -> Flask:
    settings = settings or Settings()
    app = create_service_app(
        settings, db, versions_dir=VERSIONS_DIR, title="Storefront products API",
        blueprints=[categories.blueprint, products.blueprint, products.internal_blueprint,
                    inventory.blueprint, reviews.blueprint, reservations.blueprint],
        key_source=key_source)
    catalog_reads.init_app(app, settings.database_url, settings.web_threads)
    if settings.catalog_cache_seconds > 0:
        app.extensions[LISTING_CACHE] = ListingCache(settings.catalog_cache_seconds)
    app.cli.add_command(expire_reservations_command)
    app.cli.add_command(seed_demo_command)
    return app
