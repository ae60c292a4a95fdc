"""The Flask tutorial's fixture chain: `app` (the migrated carts app, one per session) -> `client` (its test
client; the tables are emptied after each test) -> `auth` (the plugin's headers per kind of caller:
`auth.customer()`, `auth.service("orders")`, ...). `products` is the real products service behind it.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from storefront_carts.app import create_app
from storefront_carts.dependencies import CartsDependencies, db
from storefront_carts.settings import Settings
from storefront_common.dependencies import current
from storefront_common.testing.databases import fresh_database, migrated, truncate_all
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER, Auth, SignedServiceTokens, TokenFactory
from storefront_products.app import create_app as create_products_app
from storefront_products.settings import Settings as ProductsSettings


class RequestLog:
    """WSGI middleware recording the path and query of every request the products service receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []
        self.request_ids: list[str | None] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.lock:
            self.seen.append((environ["PATH_INFO"], environ.get("QUERY_STRING", "")))
            self.request_ids.append(environ.get("HTTP_X_REQUEST_ID"))
        return self.app(environ, start_response)

    def lookups(self) -> list[str]:
        with self.lock:
            return [query for path, query in self.seen if path == "/internal/products"]

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()
            self.request_ids.clear()


@dataclass
class Products:
    """The real products service over HTTP, and short-cuts to build its catalogue through its own API."""

    base_url: str
    log: RequestLog
    auth: Auth
    app: Flask
    vendor_id: uuid.UUID = field(default_factory=uuid.uuid4)
    category_id: str = ""

    @property
    def vendor(self) -> dict[str, str]:
        return self.auth.vendor(self.vendor_id)

    def _call(self, method: str, path: str, expected: int, **kwargs: Any) -> Any:
        response = requests.request(method, self.base_url + path, timeout=10, **kwargs)
        assert response.status_code == expected, response.text
        return response.json() if response.content else None

    def create_category(self) -> None:
        body = {"name": f"Phones {uuid.uuid4().hex[:8]}"}
        self.category_id = self._call("POST", "/api/v1/categories", 201, headers=self.auth.admin(), json=body)["id"]

    def product(self, name: str = "Tecno Spark 20", price: int = 15_000_000, stock: int = 10,
                **fields: Any) -> str:
        body = {"name": name, "price": price, "stock": stock, "category_id": self.category_id, **fields}
        return str(self._call("POST", "/api/v1/products", 201, headers=self.vendor, json=body)["id"])

    def update(self, product_id: str, **fields: Any) -> None:
        self._call("PATCH", f"/api/v1/products/{product_id}", 200, headers=self.vendor, json=fields)

    def set_stock(self, product_id: str, stock: int) -> None:
        self._call("POST", f"/api/v1/products/{product_id}/inventory", 200, headers=self.vendor,
                   json={"stock": stock})

    def deactivate(self, product_id: str) -> None:
        self._call("DELETE", f"/api/v1/products/{product_id}", 204, headers=self.vendor)


@pytest.fixture(scope="session")
def products(postgres_admin_url: str, jwks_url: str, tokens: TokenFactory) -> Iterator[Products]:
    with fresh_database(postgres_admin_url, "products") as url:
        settings = ProductsSettings(database_url=url, jwks_url=jwks_url, jwt_issuer=TEST_ISSUER,
                                    log_format="text", log_level="WARNING")
        with migrated(create_products_app(settings)) as app:
            log = RequestLog(app)
            with serve_wsgi(log) as base_url:
                catalogue = Products(base_url, log, Auth(tokens), app)
                catalogue.create_category()
                yield catalogue


def carts_settings(database_url: str, jwks_url: str, products_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, jwks_url=jwks_url, jwt_issuer=TEST_ISSUER,
                    products_url=products_url, log_format="text", log_level="WARNING",
                    http_backoff_seconds=0.01, **overrides)


@pytest.fixture(scope="session")
def carts_database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, "carts") as url:
        yield url


@pytest.fixture(scope="session")
def app(carts_database: str, jwks_url: str, products: Products, tokens: TokenFactory) -> Iterator[Flask]:
    with migrated(create_app(carts_settings(carts_database, jwks_url, products.base_url),
                             tokens=SignedServiceTokens(tokens, "carts"))) as app:
        yield app


@pytest.fixture()
def settings(app: Flask) -> Iterator[Settings]:
    """The running app's settings; a test may change them, they are restored afterwards."""
    running = current(CartsDependencies, app).settings
    saved = running.model_dump()
    yield running
    for name, value in saved.items():
        setattr(running, name, value)


@pytest.fixture()
def client(app: Flask, products: Products) -> Iterator[FlaskClient]:
    products.log.clear()
    yield app.test_client()
    with app.app_context():
        truncate_all(db.engine, db.metadata)

