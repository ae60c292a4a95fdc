"""The orders service's app factory."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from storefront_common.app import create_service_app

from .cli import register_commands
from .dependencies import build_dependencies
from .routes import internal, orders
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` replace fields of OrdersDependencies (tests hand in `tokens` they sign, a `key_source`)."""
    deps = build_dependencies(settings or Settings(), **overrides)
    app = create_service_app(deps, versions_dir=VERSIONS_DIR, blueprints=[orders.blueprint, internal.blueprint],
                             title="Storefront orders API")
    register_commands(app)
    return app
