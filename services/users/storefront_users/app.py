"""The users service's app factory."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_jwt_extended import JWTManager
from sqlalchemy.exc import SQLAlchemyError

from storefront_common.app import create_service_app
from storefront_common.auth import StaticKeys

from .accounts import ensure_first_admin
from .cli import register_commands
from .extensions import EXTENSION_NAME, UsersExtension, db
from .keys import SigningKeys, load_signing_keys
from .mail import Mailer
from .routes import auth, internal, jwks, users
from .service_clients import parse_service_clients
from .settings import Settings

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
            db.session.rollback()
            logger.warning("first admin not ensured at start-up", extra={"error": type(error).__name__})


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    keys = load_signing_keys(settings)
    service_clients = parse_service_clients(settings.service_clients)
    app = create_service_app(settings, db, versions_dir=VERSIONS_DIR,
                             blueprints=[auth.blueprint, users.blueprint, jwks.blueprint, internal.blueprint],
                             title="Storefront users API",
                             key_source=StaticKeys(lambda: keys.public_keys),
                             # In a cluster the pods start before their migration Job has finished.
                             after_migrate=lambda: ensure_first_admin(settings))
    app.extensions[EXTENSION_NAME] = UsersExtension(settings, keys, Mailer(settings), service_clients)
    _use_signing_key(app, keys, settings)
    register_commands(app)
    _ensure_first_admin(app, settings)
    return app
