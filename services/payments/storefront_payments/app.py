"""The one app factory of the payments service."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response

from storefront_common.app import create_service_app
from storefront_common.errors import ProblemError

from .cli import check_ledger_command, reverify_payments_command
from .dependencies import build_dependencies
from .paystack import PaystackError, PaystackUnavailable
from .routes import internal, payments, paystack_webhook, wallet
from .settings import Settings

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` replace fields of PaymentsDependencies (e.g. `tokens`, a `key_source`)."""
    deps = build_dependencies(settings or Settings(), **overrides)
    app = create_service_app(deps, versions_dir=VERSIONS_DIR, title="Storefront payments API",
                             blueprints=[wallet.blueprint, payments.blueprint, paystack_webhook.blueprint,
                                         internal.blueprint])
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
