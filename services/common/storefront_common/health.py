"""/healthz, /readyz, /metrics and /openapi.json: served by every service outside /api/v1."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .dependencies import Dependencies, current
from .errors import unavailable
from .migrations import schema_servable
from .observability import metrics_response
from .openapi import build_spec

logger = logging.getLogger("storefront.health")


def health_blueprint(title: str) -> Blueprint:
    blueprint = Blueprint("health", __name__)
    spec_cache: dict[str, Any] = {}

    @blueprint.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @blueprint.get("/readyz")
    def readyz() -> Response:
        db = current(Dependencies).db
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            logger.warning("database not reachable", extra={"error": type(error).__name__})
            db.session.rollback()
            raise unavailable("The database is not reachable.") from None
        if not schema_servable(current_app, db.session):
            raise unavailable("The database schema is not migrated to this release yet.")
        return jsonify(status="ready")

    @blueprint.get("/metrics")
    def metrics() -> Response:
        return metrics_response()

    @blueprint.get("/openapi.json")
    def openapi() -> Response:
        if "spec" not in spec_cache:
            spec_cache["spec"] = build_spec(current_app, title)
        return jsonify(spec_cache["spec"])

    return blueprint
