from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, text

from services.carts.tests.conftest import Products, carts_settings
from storefront_carts.app import VERSIONS_DIR, create_app
from storefront_carts.dependencies import db
from storefront_common.migrations import alembic_config, upgrade
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import Auth, SignedServiceTokens, TokenFactory

TABLES = {"alembic_version", "carts", "cart_items", "cart_checkouts"}


def migrated_app(database_url: str, jwks_url: str, products_url: str, tokens: TokenFactory) -> Flask:
    app = create_app(carts_settings(database_url, jwks_url, products_url), tokens=SignedServiceTokens(tokens, "carts"))
    with app.app_context():
        upgrade(app)
    return app


def assert_schema_matches_models(app: Flask) -> None:
    with app.app_context():
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == TABLES
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        upgrade(app)  # a second run is a no-op


def assert_downgrade_removes_everything(app: Flask, database_url: str) -> None:
    with app.app_context():
        command.downgrade(alembic_config(database_url, VERSIONS_DIR, db.metadata), "base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_migrations_on_postgresql(postgres_admin_url: str, jwks_url: str, products: Products,
                                  tokens: TokenFactory) -> None:
    with fresh_database(postgres_admin_url, "carts_migrations") as url:
        app = migrated_app(url, jwks_url, products.base_url, tokens)
        assert_schema_matches_models(app)
        assert_downgrade_removes_everything(app, url)


def test_migrations_and_the_cart_on_sqlite(tmp_path: Path, jwks_url: str, auth: Auth, products: Products,
                                           tokens: TokenFactory) -> None:
    url = f"sqlite:///{tmp_path / 'carts.db'}"
    app = migrated_app(url, jwks_url, products.base_url, tokens)
    assert_schema_matches_models(app)
    client = app.test_client()
    user_id = uuid.uuid4()
    headers = auth.customer(user_id)
    product_id = products.product(price=300, stock=4)
    for quantity in (1, 2):
        response = client.post("/api/v1/cart/items", headers=headers,
                               json={"product_id": product_id, "quantity": quantity})
        assert response.status_code == 200
    assert client.post("/api/v1/cart/items", headers=headers,
                       json={"product_id": product_id, "quantity": 2}).status_code == 409
    cart = client.get("/api/v1/cart", headers=headers).json
    assert cart["items"][0]["quantity"] == 3 and cart["subtotal"] == 900
    # A paid order takes its units out once (the INSERT ... ON CONFLICT DO NOTHING works on SQLite too).
    service = auth.service("orders")
    bought = {"order_id": str(uuid.uuid4()), "items": [{"product_id": product_id, "quantity": 2}]}
    for _ in range(2):
        assert client.post(f"/internal/carts/{user_id}/checkouts",
                           headers=service, json=bought).status_code == 204
    assert client.get("/api/v1/cart", headers=headers).json["items"][0]["quantity"] == 1
    # Lines go with their cart (the foreign keys pragma is on for SQLite too).
    assert client.delete("/api/v1/cart", headers=headers).status_code == 204
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM cart_items")).scalar() == 0
        db.session.remove()
    assert app.test_cli_runner().invoke(args=["purge-expired-carts"]).exit_code == 0
    assert_downgrade_removes_everything(app, url)


def test_concurrent_adds_lose_nothing_on_sqlite(tmp_path: Path, jwks_url: str, auth: Auth, products: Products,
                                                tokens: TokenFactory) -> None:
    """`make up` runs on SQLite, where FOR UPDATE does not exist: the INSERT that starts a change serializes."""
    url = f"sqlite:///{tmp_path / 'carts.db'}"
    app = migrated_app(url, jwks_url, products.base_url, tokens)
    headers = auth.customer()
    product_id = products.product(stock=100)
    with serve_wsgi(app) as base_url:
        def add(_: int) -> int:
            body = {"product_id": product_id, "quantity": 1}
            return requests.post(f"{base_url}/api/v1/cart/items", headers=headers, json=body, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(add, range(16)))
    assert statuses == [200] * 16
    assert app.test_client().get("/api/v1/cart", headers=headers).json["items"][0]["quantity"] == 16
    with app.app_context():
        db.engine.dispose()
