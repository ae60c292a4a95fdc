"""The carts service's app factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from storefront_common.app import create_service_app
from storefront_common.auth import KeySource
from storefront_common.client import ServiceClient, ServiceTokenProvider

from . import models  # noqa: F401  (registers the tables on the metadata)
from .catalog import Catalog
from .cli import purge_expired_carts_command
from .extensions import db
from .routes import cart, internal
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, *, service_tokens: ServiceTokenProvider | None = None,
               key_source: KeySource | None = None) -> Flask:
    """`service_tokens` replaces the client-credentials provider (tests hand in tokens they sign)."""
    settings = settings or Settings()
    app = create_service_app(settings, db, versions_dir=VERSIONS_DIR,
                             blueprints=[cart.blueprint, internal.blueprint], title="Storefront carts API",
                             key_source=key_source)
    tokens = service_tokens or ServiceTokenProvider(settings.users_url, settings.client_id,
                                                    settings.service_client_secret,
                                                    timeout=settings.http_read_timeout)
    app.extensions["carts.catalog"] = Catalog(ServiceClient("products", settings.products_url, settings, tokens))
    app.cli.add_command(purge_expired_carts_command)
    return app
