"""The products suite's fixtures: the Flask tutorial's chain `app` -> `client` -> `auth` (the plugin's Auth:
headers for a customer, vendor, admin or service), and `shop`, a catalogue built through the API with them."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storefront_common.dependencies import current
from storefront_common.testing.databases import fresh_database, migrated, truncate_all
from storefront_common.testing.tokens import TEST_ISSUER, Auth
from storefront_products.app import create_app
from storefront_products.dependencies import ProductsDependencies, db
from storefront_products.settings import Settings


@pytest.fixture(scope="session")
def settings(postgres_admin_url: str, jwks_url: str) -> Iterator[Settings]:
    with fresh_database(postgres_admin_url, "products") as url:
        yield Settings(database_url=url, jwks_url=jwks_url, jwt_issuer=TEST_ISSUER, log_format="text",
                       log_level="WARNING", reservation_max_ttl_seconds=3600,
                       catalog_cache_seconds=0, catalog_estimate_seconds=0)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    with migrated(create_app(settings)) as app:
        yield app
        with app.app_context():
            current(ProductsDependencies, app).catalog_reads.engine.dispose()


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        truncate_all(db.engine, db.metadata)


@dataclass
class Shop:
    """Two vendors and a customer of the shop, and short-cuts to build its catalogue through the API itself."""

    client: FlaskClient
    auth: Auth
    vendor_id: uuid.UUID = field(default_factory=uuid.uuid4)
    other_vendor_id: uuid.UUID = field(default_factory=uuid.uuid4)
    customer_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def vendor(self) -> dict[str, str]:
        return self.auth.vendor(self.vendor_id)

    @property
    def other_vendor(self) -> dict[str, str]:
        return self.auth.vendor(self.other_vendor_id)

    @property
    def customer(self) -> dict[str, str]:
        return self.auth.customer(self.customer_id)

    def category(self, name: str = "Phones", attributes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/categories", headers=self.auth.admin(),
                                    json={"name": name, "attributes": attributes or [], **extra})
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def product(self, category: dict[str, Any], headers: dict[str, str] | None = None,
                **fields: Any) -> dict[str, Any]:
        body = {"name": "Tecno Spark 20", "price": 15_000_000, "stock": 10, "category_id": category["id"],
                **fields}
        response = self.client.post("/api/v1/products", headers=headers or self.vendor, json=body)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def stock_of(self, product_id: str) -> int:
        return int(self.client.get(f"/api/v1/products/{product_id}", headers=self.auth.admin()).json["stock"])


@pytest.fixture()
def shop(client: FlaskClient, auth: Auth) -> Shop:
    return Shop(client, auth)
