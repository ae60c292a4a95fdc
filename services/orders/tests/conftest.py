"""The orders service against the real products, carts and payments services, over real HTTP.

Each service runs its own app on its own fresh PostgreSQL database with its own migrations, served by
`serve_wsgi` on 127.0.0.1, verifying tokens from the shared `jwks_url`. Paystack is the simulator.
The users service is stood in for by a tiny HTTP endpoint answering /api/v1/users/me from the token
(orders asks it for the email of a buyer whose token lacks the `email` claim); the real users service
issues tokens with its own keys, while these suites sign them with the plugin's key.

Tests take the Flask tutorial's chain: `app` (the orders app the platform serves) -> `client` (orders over
HTTP) -> `auth` (the plugin's Auth: headers per caller); `shop` (shop.py) drives journeys on top of them.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
import pytest
import requests
from flask import Flask, jsonify, request

from storefront_common.dependencies import Dependencies, current
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.servers import HttpClient, free_port, serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER, Auth, SignedServiceTokens, TokenFactory

if TYPE_CHECKING:
    from services.orders.tests.shop import Shop

PAYSTACK_SECRET = "sk_test_orders_suite"
TIMEOUT = 30


def users_stand_in() -> Flask:
    app = Flask("users-stand-in")

    @app.get("/api/v1/users/me")
    def me() -> Any:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        return jsonify(id=claims["sub"], email=f"buyer-{claims['sub'][:8]}@example.test", roles=claims["roles"])

    return app


class Server:
    """A WSGI app on a fixed port that a test can stop and start again (a dependency going down)."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._stack: ExitStack | None = None

    def start(self) -> None:
        self._stack = ExitStack()
        self._stack.enter_context(serve_wsgi(self.app, port=self.port))

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    @contextmanager
    def down(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


@dataclass
class Platform:
    orders_app: Flask
    orders: Server
    products: Server
    carts: Server
    payments: Server
    paystack: Server
    users: Server
    apps: dict[str, Flask] = field(default_factory=dict)

    def urls(self) -> dict[str, str]:
        servers = {"users": self.users, "products": self.products, "carts": self.carts,
                   "orders": self.orders, "payments": self.payments}
        return {f"{name}_url": server.url for name, server in servers.items()}


def common_settings(jwks_url: str, database_url: str, urls: dict[str, str]) -> dict[str, Any]:
    return {"database_url": database_url, "jwks_url": jwks_url, "jwt_issuer": TEST_ISSUER,
            "auto_migrate": True, "log_format": "text", "log_level": "WARNING",
            "http_retries": 1, "http_backoff_seconds": 0.05, "http_read_timeout": 20.0, **urls}


@pytest.fixture(scope="session")
def platform(postgres_admin_url: str, jwks_url: str, tokens: TokenFactory) -> Iterator[Platform]:
    from storefront_carts.app import create_app as create_carts
    from storefront_carts.settings import Settings as CartsSettings
    from storefront_dev.paystack_sim import SimulatorConfig
    from storefront_dev.paystack_sim import create_app as create_paystack
    from storefront_orders.app import create_app as create_orders
    from storefront_orders.settings import Settings as OrdersSettings
    from storefront_payments.app import create_app as create_payments
    from storefront_payments.settings import Settings as PaymentsSettings
    from storefront_products.app import create_app as create_products
    from storefront_products.settings import Settings as ProductsSettings

    ports = {name: free_port() for name in ("users", "products", "carts", "orders", "payments", "paystack")}
    urls = {f"{name}_url": f"http://127.0.0.1:{port}" for name, port in ports.items() if name != "paystack"}
    paystack_url = f"http://127.0.0.1:{ports['paystack']}"

    with ExitStack() as stack:
        database = {name: stack.enter_context(fresh_database(postgres_admin_url, f"orders_suite_{name}"))
                    for name in ("products", "carts", "orders", "payments")}
        common = {name: common_settings(jwks_url, database.get(name, ""), urls) for name in database}
        products_app = create_products(ProductsSettings(**common["products"]))
        carts_app = create_carts(CartsSettings(**common["carts"]), tokens=SignedServiceTokens(tokens, "carts"))
        payments_app = create_payments(PaymentsSettings(
            **common["payments"], paystack_base_url=paystack_url, paystack_secret_key=PAYSTACK_SECRET,
            paystack_callback_url=f"{urls['payments_url']}/api/v1/payments/paystack/callback"),
            tokens=SignedServiceTokens(tokens, "payments"))
        orders_app = create_orders(OrdersSettings(**common["orders"], payment_timeout_seconds=1800),
                                   tokens=SignedServiceTokens(tokens, "orders"))
        paystack_app = create_paystack(SimulatorConfig(
            secret_key=PAYSTACK_SECRET, webhook_url=f"{urls['payments_url']}/api/v1/payments/paystack/webhook",
            public_url=paystack_url))
        servers = {"users": Server(users_stand_in(), ports["users"]),
                   "products": Server(products_app, ports["products"]),
                   "carts": Server(carts_app, ports["carts"]),
                   "orders": Server(orders_app, ports["orders"]),
                   "payments": Server(payments_app, ports["payments"]),
                   "paystack": Server(paystack_app, ports["paystack"])}
        for server in servers.values():
            server.start()
            stack.callback(server.stop)
        yield Platform(orders_app=orders_app, apps={
            "products": products_app, "carts": carts_app, "payments": payments_app}, **servers)
        for app in (orders_app, products_app, carts_app, payments_app):
            with app.app_context():
                current(Dependencies, app).db.engine.dispose()


@pytest.fixture()
def app(platform: Platform) -> Flask:
    """The orders app the platform serves (test_sqlite.py overrides it with one on SQLite)."""
    return platform.orders_app


@pytest.fixture()
def client(platform: Platform, app: Flask) -> HttpClient:
    """How tests call orders: over HTTP, at the server that serves `app` (an overridden `app` swaps it in)."""
    """Orders over HTTP, at whichever server `platform.orders` is now (tests restart it)."""
    return HttpClient(lambda: platform.orders.url, timeout=TIMEOUT)


@pytest.fixture()
def shop(platform: Platform, client: HttpClient, auth: Auth) -> Shop:
    from services.orders.tests.shop import Shop

    return Shop(platform, client, auth)
