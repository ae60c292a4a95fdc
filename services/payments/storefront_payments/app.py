"""The one app factory of the payments service."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response

from storefront_common.app import create_service_app
from storefront_common.auth import KeySource
from storefront_common.client import ServiceClient, ServiceTokenProvider
from storefront_common.errors import ProblemError

from .cli import check_ledger_command, reverify_payments_command
from .extensions import Dependencies, db
from .paystack import PaystackClient, PaystackError, PaystackUnavailable
from .routes import internal, payments, wallet, webhook
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, key_source: KeySource | None = None) -> Flask:
    settings = settings or Settings()
    app = create_service_app(settings, db, versions_dir=VERSIONS_DIR, title="Storefront payments API",
                             blueprints=[wallet.blueprint, payments.blueprint, webhook.blueprint,
                                         internal.blueprint], key_source=key_source)
    tokens = ServiceTokenProvider(settings.users_url, settings.client_id, settings.service_client_secret,
                                  timeout=settings.http_read_timeout)
    app.extensions["payments"] = Dependencies(
        settings=settings,
        paystack=PaystackClient(settings.paystack_base_url, settings.paystack_secret_key.get_secret_value(),
                                timeout=settings.paystack_timeout, connect_timeout=settings.http_connect_timeout),
        users=ServiceClient("users", settings.users_url, settings, tokens),
        orders=ServiceClient("orders", settings.orders_url, settings, tokens),
    )
    app.register_error_handler(PaystackError, _paystack_problem)
    app.cli.add_command(reverify_payments_command)
    app.cli.add_command(check_ledger_command)
    return app


def _paystack_problem(error: PaystackError) -> Response:
    if isinstance(error, PaystackUnavailable) or error.rejected_our_key:
        problem = ProblemError(503, "The payment provider is unavailable. Try again shortly.",
                               headers={"Retry-After": "10"})
    else:
        # Paystack refused what we sent on the caller's behalf: the request cannot succeed as it is.
        problem = ProblemError(422, f"Paystack refused the request: {error.message}"[:300])
    return problem.get_response()
