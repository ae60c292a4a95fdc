"""The payments service over real HTTP, against the private PostgreSQL and the real Paystack simulator.

Tests take the Flask tutorial's chain: `app` (the payments app) -> `client` (requests on its base URL) ->
`auth` (the plugin's headers per kind of caller); `stack` only when they drive the simulator or the stand-ins.

Everything talks over real sockets on 127.0.0.1: the simulator calls the service's webhook, the service calls
the simulator. Two small stand-ins replace the other services in these unit tests only: a users stand-in
(service tokens and `GET /api/v1/users/me`) and an orders stand-in that records payment events. The
end-to-end tests elsewhere run the real users and orders services.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
import requests
from flask import Flask, jsonify, request

from storefront_common.testing.databases import fresh_database, truncate_all
from storefront_common.testing.servers import HttpClient, free_port, serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER, Auth, SigningKey, TokenFactory
from storefront_dev.paystack_sim import SimulatorConfig
from storefront_dev.paystack_sim import create_app as create_simulator
from storefront_common.dependencies import current
from storefront_payments.app import create_app
from storefront_payments.dependencies import PaymentsDependencies, db
from storefront_payments.ledger import check_ledger
from storefront_payments.settings import Settings


SECRET_KEY = "sk_test_payments_suite_0123456789"
ACCOUNT = {"account_number": "0123456789", "bank_code": "058"}  # a bank account the simulator resolves
WEBHOOK_PATH = "/api/v1/payments/paystack/webhook"


@dataclass
class OrdersStandIn:
    """Records what reaches `POST /internal/orders/{id}/payment-events`; can play down or refuse an order."""

    events: list[dict[str, Any]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # order ids answered 409 (cancelled meanwhile)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.events.clear()
            self.refuse.clear()
            self.down = False

    def for_order(self, order_id: uuid.UUID | str) -> list[dict[str, Any]]:
        with self.lock:
            return [event for event in self.events if event["order_id"] == str(order_id)]


def orders_stand_in_app(state: OrdersStandIn, signing_key: SigningKey) -> Flask:
    app = Flask("orders-stand-in")

    @app.post("/internal/orders/<order_id>/payment-events")
    def payment_event(order_id: str) -> Any:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, signing_key.public_pem(), algorithms=["RS256"], audience="storefront")
        except jwt.InvalidTokenError:
            return jsonify(title="Unauthorized"), 401
        if "service" not in claims.get("roles", []):
            return jsonify(title="Forbidden"), 403
        if state.down:
            return jsonify(title="Service Unavailable"), 503
        with state.lock:
            state.events.append({"order_id": order_id, **request.get_json()})
        if order_id in state.refuse:
            return jsonify(title="Conflict", detail="The order is cancelled."), 409
        return jsonify(status="ok")

    return app


def users_stand_in_app(tokens: TokenFactory) -> Flask:
    app = Flask("users-stand-in")

    @app.post("/internal/auth/token")
    def service_token() -> Any:
        body = request.get_json()
        if body.get("grant_type") != "client_credentials" or not body.get("client_secret"):
            return jsonify(title="Unauthorized"), 401
        token = tokens.token(f"svc:{body['client_id']}", ["service"])
        return jsonify(access_token=token, token_type="Bearer", expires_in=900)

    @app.get("/api/v1/users/me")
    def me() -> Any:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        return jsonify(id=claims["sub"], email=f"user-{claims['sub'][:8]}@example.test")

    return app


@dataclass
class User:
    """One caller: its own id and headers (from `auth`), its requests through `client`."""

    client: HttpClient
    id: uuid.UUID
    headers: dict[str, str]

    @property
    def email(self) -> str:
        return f"user-{str(self.id)[:8]}@example.test"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, body: Any = None, key: str | None = None) -> requests.Response:
        headers = dict(self.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(path, json=body, headers=headers)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.client.put(path, json=body, headers=self.headers)

    def balance(self) -> int:
        response = self.get("/api/v1/wallet")
        assert response.status_code == 200, response.text
        return int(response.json()["balance"])

    def topup(self, amount: int) -> dict[str, Any]:
        response = self.post("/api/v1/wallet/topups", {"amount": amount}, key=uuid.uuid4().hex)
        assert response.status_code == 201, response.text
        return response.json()


def sign_in(client: HttpClient, auth: Auth, *roles: str) -> User:
    """A new user with `roles` (a customer by default)."""
    user_id = uuid.uuid4()
    return User(client, user_id, auth.user(*(roles or ("customer",)), user_id=user_id))


def pay_order(client: HttpClient, auth: Auth, buyer: User, amount: int, method: str = "wallet",
              order_id: uuid.UUID | None = None, splits: list[dict[str, Any]] | None = None) -> requests.Response:
    """`POST /internal/payments` as the orders service sends it."""
    body = {"order_id": str(order_id or uuid.uuid4()), "user_id": str(buyer.id), "email": buyer.email,
            "amount": amount, "currency": "NGN", "method": method}
    if splits is not None:
        body["splits"] = splits
    return client.post("/internal/payments", json=body, headers=auth.service("orders"))


def run_cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def settings_of(app: Flask) -> Settings:
    return current(PaymentsDependencies, app).settings


@dataclass
class Stack:
    """The machinery behind the chain: the service's URL and app, the Paystack simulator, the orders stand-in."""

    base_url: str
    app: Flask
    simulator: Flask
    simulator_url: str
    orders: OrdersStandIn

    @property
    def simulator_config(self) -> SimulatorConfig:
        return self.simulator.extensions["paystack_sim.config"]

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    def complete(self, reference: str, outcome: str = "success") -> dict[str, Any]:
        response = requests.post(f"{self.simulator_url}/_simulator/transactions/{reference}/complete",
                                 json={"outcome": outcome}, timeout=15)
        assert response.status_code == 200, response.text
        return response.json()

    def replay(self, reference: str) -> int:
        response = requests.post(f"{self.simulator_url}/_simulator/webhooks/{reference}/replay", timeout=15)
        assert response.status_code == 200, response.text
        return int(response.json()["webhook_status"])

    def simulator_state(self) -> dict[str, Any]:
        return requests.get(f"{self.simulator_url}/_simulator/transactions", timeout=10).json()

    def fund(self, user: User, amount: int) -> None:
        """Top the user's wallet up through the simulator: initialize, pay, signed webhook."""
        started = user.topup(amount)
        assert self.complete(started["reference"])["webhook_status"] == 200


@contextmanager
def running_stack(database_url: str, jwks_url: str, tokens: TokenFactory, signing_key: SigningKey) -> Iterator[Stack]:
    """The service on `database_url` with its own simulator and stand-ins, all served over real HTTP."""
    orders = OrdersStandIn()
    payments_port = free_port()
    payments_url = f"http://127.0.0.1:{payments_port}"
    simulator = create_simulator(SimulatorConfig(secret_key=SECRET_KEY,
                                                 webhook_url=payments_url + WEBHOOK_PATH))
    with (serve_wsgi(simulator) as simulator_url,
          serve_wsgi(users_stand_in_app(tokens)) as users_url,
          serve_wsgi(orders_stand_in_app(orders, signing_key)) as orders_url):
        settings = Settings(
            database_url=database_url, auto_migrate=True, jwks_url=jwks_url, jwt_issuer=TEST_ISSUER,
            users_url=users_url, orders_url=orders_url, service_client_secret="payments-secret",
            paystack_secret_key=SECRET_KEY, paystack_base_url=simulator_url,
            paystack_callback_url=f"{payments_url}/api/v1/payments/paystack/callback",
            http_retries=0, log_format="json")
        app = create_app(settings)
        try:
            with serve_wsgi(app, port=payments_port):
                yield Stack(payments_url, app, simulator, simulator_url, orders)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def stack(postgres_admin_url: str, jwks_url: str, tokens: TokenFactory, signing_key: SigningKey) -> Iterator[Stack]:
    with (fresh_database(postgres_admin_url, "payments") as database_url,
          running_stack(database_url, jwks_url, tokens, signing_key) as running):
        yield running


@pytest.fixture
def app(stack: Stack) -> Flask:
    return stack.app


@pytest.fixture
def client(stack: Stack) -> Iterator[HttpClient]:
    """Payments over real HTTP, keep-alive."""
    with requests.Session() as session:
        yield HttpClient(stack.base_url, session)


@pytest.fixture(autouse=True)
def ledger_is_sound(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used the service (`stack`, or `app` or `client` on it): the books balance, and then
    everything is wiped."""
    yield
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    with stack.app.app_context():
        violations = check_ledger(db.session)
        db.session.remove()
        truncate_all(db.engine, db.metadata)
    requests.post(f"{stack.simulator_url}/_simulator/reset", timeout=10)
    stack.orders.reset()
    stack.simulator_config.webhook_url = stack.webhook_url
    settings_of(stack.app).platform_fee_bps = 0
    assert violations == []
