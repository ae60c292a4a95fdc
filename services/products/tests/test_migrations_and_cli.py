from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text

from services.products.tests.conftest import Shop
from storefront_common.migrations import upgrade
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER, Auth
from storefront_common.timeutil import utcnow
from storefront_products.app import create_app
from storefront_products.dependencies import db
from storefront_products.reservations import expire_due
from storefront_products.settings import Settings

TABLES = {"alembic_version", "categories", "products", "reviews", "reservations", "reservation_items"}
POSTGRESQL_TABLES = TABLES | {"search_words"}  # typo corrections (migration 0005)
# SQLite's full-text index: the FTS5 table and its shadow tables.
SQLITE_TABLES = TABLES | {f"products_fts{suffix}" for suffix in ("", "_config", "_content", "_data", "_docsize", "_idx")}


def migrated_app(database_url: str, jwks_url: str) -> Flask:
    app = create_app(Settings(database_url=database_url, jwks_url=jwks_url, jwt_issuer=TEST_ISSUER,
                              log_format="text", log_level="WARNING"))
    with app.app_context():
        upgrade(app)
    return app


def test_migrations_on_postgresql_match_the_models(postgres_admin_url: str, jwks_url: str) -> None:
    with fresh_database(postgres_admin_url, "migrations") as url:
        app = migrated_app(url, jwks_url)
        with app.app_context():
            with db.engine.connect() as connection:
                assert set(inspect(connection).get_table_names()) == POSTGRESQL_TABLES
                assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
                differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            upgrade(app)  # a second run is a no-op
            db.engine.dispose()


def test_migrations_and_demo_seed_on_sqlite(tmp_path: Path, jwks_url: str) -> None:
    app = migrated_app(f"sqlite:///{tmp_path / 'products.db'}", jwks_url)
    vendor_id = uuid.uuid4()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--vendor-id", str(vendor_id)]).exit_code == 0
    client = app.test_client()
    listed = client.get("/api/v1/products?per_page=100&q=rice&sort=price").json
    assert [item["name"] for item in listed["items"]] == ["Ofada Rice 5 kg"]
    assert listed["items"][0]["vendor_id"] == str(vendor_id)
    assert client.get("/api/v1/products?category=groceries").json["total"] == 4
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) == SQLITE_TABLES
        db.engine.dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'products.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM products")).scalar() == 20
    engine.dispose()


def test_seed_demo_is_idempotent(app: Flask, client: FlaskClient, shop: Shop) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--vendor-id", str(shop.vendor_id)])
    assert first.exit_code == 0 and "created 5 categor(y/ies) and 20 product(s)" in first.output
    second = runner.invoke(args=["seed-demo", "--vendor-id", str(shop.vendor_id)])
    assert "created 0 categor(y/ies) and 0 product(s)" in second.output
    listed = client.get("/api/v1/products?per_page=100").json
    assert listed["total"] == 20
    assert {item["vendor_id"] for item in listed["items"]} == {str(shop.vendor_id)}
    assert all(item["category"] is not None for item in listed["items"])
    assert {item["images"][0] for item in listed["items"]} == {f"/static/demo/{item['slug']}.svg" for item in listed["items"]}
    assert len(client.get("/api/v1/categories").json["items"]) == 5
    assert runner.invoke(args=["seed-demo", "--vendor-id", "not-a-uuid"]).exit_code != 0


def test_seed_demo_gives_a_picture_to_a_demo_product_that_has_none(app: Flask, client: FlaskClient, shop: Shop) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo", "--vendor-id", str(shop.vendor_id)])
    rice = client.get("/api/v1/products?q=ofada").json["items"][0]
    honey = client.get("/api/v1/products?q=honey").json["items"][0]
    own_picture = ["https://img.example/honey.jpg"]
    for product, images in ((rice, []), (honey, own_picture)):
        changed = client.patch(f"/api/v1/products/{product['id']}", headers=shop.vendor, json={"images": images})
        assert changed.status_code == 200, changed.json
    # An edit that sends the demo picture back as it got it is accepted.
    assert client.patch(f"/api/v1/products/{honey['id']}", headers=shop.vendor,
                        json={"images": [*own_picture, honey["images"][0]]}).status_code == 200
    runner.invoke(args=["seed-demo", "--vendor-id", str(shop.vendor_id)])
    assert client.get(f"/api/v1/products/{rice['id']}").json["images"] == ["/static/demo/ofada-rice-5-kg.svg"]
    assert client.get(f"/api/v1/products/{honey['id']}").json["images"] == [*own_picture, "/static/demo/honey-1-l.svg"]


def test_reservations_work_on_sqlite(tmp_path: Path, jwks_url: str, auth: Auth) -> None:
    service = auth.service("orders")
    app = migrated_app(f"sqlite:///{tmp_path / 'products.db'}", jwks_url)
    shop = Shop(app.test_client(), auth)
    product = shop.product(shop.category(), stock=5)

    def reserve(quantity: int) -> dict[str, Any]:
        body = {"order_id": str(uuid.uuid4()), "ttl_seconds": 60,
                "items": [{"product_id": product["id"], "quantity": quantity}]}
        response = shop.client.post("/internal/reservations", headers=service, json=body)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    committed, released, expiring = reserve(1), reserve(1), reserve(2)
    repeat = shop.client.post("/internal/reservations", headers=service, json={
        "order_id": committed["order_id"], "ttl_seconds": 60,
        "items": [{"product_id": product["id"], "quantity": 1}]})
    assert (repeat.status_code, repeat.json) == (200, committed)
    assert shop.client.get(f"/internal/reservations/{expiring['id']}", headers=service).json == expiring
    assert shop.client.post("/internal/reservations", headers=service, json={
        "order_id": str(uuid.uuid4()), "ttl_seconds": 60,
        "items": [{"product_id": product["id"], "quantity": 2}]}).json["insufficient"][0]["available"] == 1
    path = "/internal/reservations/{}/{}"
    assert shop.client.post(path.format(committed["id"], "commit"), headers=service).status_code == 200
    assert shop.client.post(path.format(released["id"], "release"), headers=service).status_code == 200
    assert shop.client.post(path.format(released["id"], "commit"), headers=service).status_code == 409
    returned = shop.client.post(path.format(committed["id"], "return"), headers=service)
    assert returned.status_code == 200 and returned.json["status"] == "returned"
    with app.app_context():
        with db.engine.connect() as connection:
            assert expire_due(connection, batch_size=10, now=utcnow() + timedelta(minutes=5)) == 1
        db.engine.dispose()
    assert shop.stock_of(product["id"]) == 5


def test_concurrent_reservations_on_sqlite_reserve_exactly_the_stock(tmp_path: Path, jwks_url: str,
                                                                    auth: Auth) -> None:
    app = migrated_app(f"sqlite:///{tmp_path / 'products.db'}", jwks_url)
    shop = Shop(app.test_client(), auth)
    product = shop.product(shop.category(), stock=10)
    headers = auth.service("orders")

    def reserve_one(_: int) -> int:
        body = {"order_id": str(uuid.uuid4()), "ttl_seconds": 60,
                "items": [{"product_id": product["id"], "quantity": 1}]}
        return requests.post(f"{base_url}/internal/reservations", json=body, headers=headers, timeout=60).status_code

    with serve_wsgi(app) as base_url:
        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(reserve_one, range(30)))
    assert statuses.count(201) == 10 and statuses.count(409) == 20
    assert shop.stock_of(product["id"]) == 0
    with app.app_context():
        db.engine.dispose()


def _load_catalog(app: Flask, products: int) -> None:
    loaded = app.test_cli_runner().invoke(args=["load-catalog", "--products", str(products), "--categories", "5"])
    assert loaded.exit_code == 0, loaded.output
    assert f"loaded 5 categor(y/ies) and {products} product(s)" in loaded.output


def test_load_catalog_copies_a_generated_catalogue(app: Flask, client: FlaskClient) -> None:
    _load_catalog(app, 500)
    listed = client.get("/api/v1/products?per_page=100&sort=name").json
    assert 440 <= listed["total"] < 500  # about 5% inactive
    assert len(client.get("/api/v1/categories").json["items"]) == 5
    first = listed["items"][0]
    assert first["category"] is not None and first["attributes"].keys() == {"brand", "colour"}
    assert client.get(f"/api/v1/products/{first['id']}").json == first


def test_load_catalog_on_sqlite(tmp_path: Path, jwks_url: str) -> None:
    app = migrated_app(f"sqlite:///{tmp_path / 'products.db'}", jwks_url)
    _load_catalog(app, 50)
    assert 40 <= app.test_client().get("/api/v1/products").json["total"] <= 50
    with app.app_context():
        db.engine.dispose()
