"""The users service's app factory."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_jwt_extended import JWTManager
from sqlalchemy.exc import SQLAlchemyError

from storefront_common.app import create_service_app

from . import store
from .accounts import ensure_first_admin
from .cli import register_commands
from .dependencies import build_dependencies
from .routes import auth, internal, jwks, users
from .settings import Settings
from .signing_keys import SigningKeys

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
logger = logging.getLogger("storefront.users")


def _use_signing_key(app: Flask, keys: SigningKeys, settings: Settings) -> None:
    # Tokens travel in headers only, so the CSRF claim flask-jwt-extended adds by default means nothing;
    # nbf would only repeat iat.
    app.config.update(JWT_COOKIE_CSRF_PROTECT=False, JWT_ENCODE_NBF=False,
                      JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=settings.access_token_ttl_seconds),
                      JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=settings.refresh_token_ttl_seconds))
    manager: JWTManager = app.extensions["flask-jwt-extended"]
    manager.encode_key_loader(lambda identity: keys.private_key)
    manager.additional_headers_loader(lambda identity: {"kid": keys.active_kid})


def _ensure_first_admin(app: Flask, settings: Settings) -> None:
    with app.app_context():
        try:
            ensure_first_admin(settings)
        except SQLAlchemyError as error:
            # Typically the schema is not migrated yet; `flask create-first-admin` can be run afterwards.
            store.rollback()
            logger.warning("first admin not ensured at start-up", extra={"error": type(error).__name__})


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` replace fields of UsersDependencies (e.g. `keys`, a `mailer`)."""
    settings = settings or Settings()
    deps = build_dependencies(settings, **overrides)
    app = create_service_app(deps, versions_dir=VERSIONS_DIR,
                             blueprints=[auth.blueprint, users.blueprint, jwks.blueprint, internal.blueprint],
                             title="Storefront users API",
                             # In a cluster the pods start before their migration Job has finished.
                             after_migrate=lambda: ensure_first_admin(settings))
    _use_signing_key(app, deps.keys, settings)
    register_commands(app)
    _ensure_first_admin(app, settings)
    return app
