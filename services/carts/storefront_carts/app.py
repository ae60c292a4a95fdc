"""The carts service's app factory."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from storefront_common.app import create_service_app

from . import models  # noqa: F401  (registers the tables on the metadata)
from .cli import purge_expired_carts_command
from .dependencies import build_dependencies
from .routes import cart, internal
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` replace fields of CartsDependencies (tests hand in `tokens` they sign, a `key_source`)."""
    deps = build_dependencies(settings or Settings(), **overrides)
    app = create_service_app(deps, versions_dir=VERSIONS_DIR, blueprints=[cart.blueprint, internal.blueprint],
                             title="Storefront carts API")
    app.cli.add_command(purge_expired_carts_command)
    return app
