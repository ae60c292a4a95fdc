"""The products service's app factory."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from storefront_common.app import create_service_app

from . import models  # noqa: F401  (the tables must be known to the metadata before migrations run)
from .cli import expire_reservations_command, load_catalog_command, seed_demo_command
from .dependencies import build_dependencies
from .routes import categories, inventory, products, reservations, reviews
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` replace fields of ProductsDependencies (e.g. a `key_source`, a `listing_cache`)."""
    deps = build_dependencies(settings or Settings(), **overrides)
    app = create_service_app(
        deps, versions_dir=VERSIONS_DIR, title="Storefront products API",
        blueprints=[categories.blueprint, products.blueprint, products.internal_blueprint,
                    inventory.blueprint, reviews.blueprint, reservations.blueprint])
    app.cli.add_command(expire_reservations_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(load_catalog_command)
    return app
