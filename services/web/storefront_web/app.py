"""The web service's app factory: the shop's pages on top of storefront_common's service app."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from storefront_common.app import create_service_app
from storefront_common.client import DependencyFailed
from storefront_common.errors import http_exception_response

from . import models  # noqa: F401  (registers the table on the metadata)
from .api import ApiProblem
from .cli import purge_expired_sessions_command
from .dependencies import build_dependencies
from .money import format_money
from .pages import safe_next
from .routes import account, admin, cart, orders, shop, vendor, wallet
from .sessions import SignInRequired, current_user, sign_out
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
OPERATIONS_PATHS = frozenset({"/metrics", "/readyz", "/openapi.json"})
logger = logging.getLogger("storefront.web")
BLUEPRINTS = [shop.blueprint, account.blueprint, cart.blueprint, orders.blueprint, wallet.blueprint,
              vendor.blueprint, admin.blueprint]


def content_security_policy(settings: Settings) -> str:
    """No inline script or style anywhere; forms post here, or (redirected) to a payment page."""
    form_targets = " ".join(["'self'", *settings.payment_page_origins.split()])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
            f"font-src 'self'; connect-src 'self'; form-action {form_targets}; frame-ancestors 'none'; "
            "base-uri 'none'; object-src 'none'")


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` replace fields of WebDependencies (a test may hand in its own `api`)."""
    settings = settings or Settings()
    deps = build_dependencies(settings, **overrides)
    app = create_service_app(deps, versions_dir=VERSIONS_DIR, blueprints=BLUEPRINTS, title="Storefront web")
    if not settings.cookie_signing_key and settings.is_production:
        raise RuntimeError("SESSION_SECRET_KEY (or SERVICE_CLIENT_SECRET) is required when ENVIRONMENT=production")
    # Without either (a bare local run): a key per process, so sessions end when it restarts.
    app.secret_key = settings.cookie_signing_key or secrets.token_urlsafe(32)
    app.config.update(
        SESSION_COOKIE_NAME="storefront_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_ttl_seconds),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session that holds it
        WTF_CSRF_SSL_STRICT=settings.is_production,
    )
    app.jinja_env.autoescape = True  # every template, whatever its file name
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.globals.update(current_user=current_user, currency=settings.storefront_currency)
    CSRFProtect(app)
    policy = content_security_policy(settings)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages show one person's cart and orders
        return response

    @app.before_request
    def operations_stay_inside() -> Response | None:
        """web is the Ingress's catch-all, so its own /metrics, /readyz and /openapi.json would be public.
        A request that came through the gateway or an Ingress carries X-Forwarded-For (they set it);
        Prometheus and the kubelet reach the pod directly."""
        if request.path in OPERATIONS_PATHS and "X-Forwarded-For" in request.headers:
            abort(404)
        return None

    register_page_errors(app)
    app.cli.add_command(purge_expired_sessions_command)
    return app


def register_page_errors(app: Flask) -> None:
    """Errors as pages (storefront_common answers problem+json; a browser wants HTML)."""

    @app.errorhandler(SignInRequired)
    def sign_in_first(_: SignInRequired) -> Response:
        return redirect(url_for("account.login", next=safe_next(request.full_path.rstrip("?"))), 303)

    @app.errorhandler(ApiProblem)
    def refused(problem: ApiProblem) -> tuple[str, int]:
        if problem.status == 401:  # the API no longer takes this session's tokens
            sign_out()
            return redirect(url_for("account.login", next=safe_next(request.full_path.rstrip("?"))), 303)
        status = problem.status if 400 <= problem.status < 500 else 502
        return render_template("error.html", title="That did not work", message=problem.message), status

    @app.errorhandler(DependencyFailed)
    def unavailable(error: DependencyFailed) -> tuple[str, int, dict[str, str]]:
        message = "Part of the shop is not answering right now. Please try again in a moment."
        return render_template("error.html", title="Temporarily unavailable", message=message), 503, \
            {"Retry-After": "5"}

    @app.errorhandler(CSRFError)
    def form_expired(_: CSRFError) -> tuple[str, int]:
        message = "This form has expired or did not come from this shop. Go back, reload the page and try again."
        return render_template("error.html", title="Form expired", message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if request.path in ("/healthz", "/readyz", "/metrics", "/openapi.json") or request.path.startswith("/api/"):
            return http_exception_response(error)  # an API client that lands here gets problem+json
        titles = {404: "Page not found", 405: "Not allowed here"}
        message = "There is no page at this address." if error.code == 404 else (error.description or "")
        return render_template("error.html", title=titles.get(error.code or 500, "Bad request"),
                               message=message), error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        logger.exception("unexpected error")
        return render_template("error.html", title="Something went wrong",
                               message="The page failed to load. Please try again."), 500
