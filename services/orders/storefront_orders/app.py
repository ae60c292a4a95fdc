"""The orders service's app factory."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask

from storefront_common.app import create_service_app
from storefront_common.auth import KeySource
from storefront_common.client import ServiceTokenProvider

from .cli import register_commands
from .clients import StaticTokenSource, make_clients
from .extensions import db
from .routes import internal, orders
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
TokenSource = ServiceTokenProvider | Callable[[], str]


def create_app(settings: Settings | None = None, *, service_tokens: TokenSource | None = None,
               key_source: KeySource | None = None) -> Flask:
    """`service_tokens` replaces client credentials at the users service (tests pass a callable)."""
    settings = settings or Settings()
    app = create_service_app(settings, db, versions_dir=VERSIONS_DIR,
                             blueprints=[orders.blueprint, internal.blueprint],
                             title="Storefront orders API", key_source=key_source)
    app.extensions["orders_clients"] = make_clients(settings, _token_source(settings, service_tokens))
    register_commands(app)
    return app


def _token_source(settings: Settings, given: TokenSource | None) -> ServiceTokenProvider:
    if isinstance(given, ServiceTokenProvider):
        return given
    if given is not None:
        return StaticTokenSource(given)
    return ServiceTokenProvider(settings.users_url, settings.client_id, settings.service_client_secret,
                                timeout=settings.http_read_timeout)
