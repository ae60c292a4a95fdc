"""Serve the simulator: python -m storefront_dev.paystack_sim --port 8090 --secret-key sk_test_x"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from .app import create_app
from .config import SimulatorConfig

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m storefront_dev.paystack_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--secret-key",
        default=os.environ.get("PAYSTACK_SECRET_KEY"),
        help="the secret key to accept (default: $PAYSTACK_SECRET_KEY)",
    )
    parser.add_argument("--webhook-url", default=os.environ.get("PAYSTACK_WEBHOOK_URL"))
    parser.add_argument(
        "--public-url",
        default=os.environ.get("PAYSTACK_PUBLIC_URL"),
        help="externally visible base URL, e.g. http://127.0.0.1:8080/_paystack (default: from each request)",
    )
    parser.add_argument("--currency", default="NGN")
    parser.add_argument("--mount-path", default="", help="serve under this path, e.g. /_paystack behind an Ingress")
    args = parser.parse_args(argv)
    if not args.secret_key:
        parser.error("--secret-key or PAYSTACK_SECRET_KEY is required")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SimulatorConfig(
        secret_key=args.secret_key,
        webhook_url=args.webhook_url,
        public_url=args.public_url,
        currency=args.currency,
    )
    app: WSGIApplication = create_app(config)
    if args.mount_path:
        app = DispatcherMiddleware(NotFound(), {args.mount_path.rstrip("/"): app})
    # Threaded, so a webhook receiver can call back (e.g. verify) while the
    # simulator waits for it to answer.
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
