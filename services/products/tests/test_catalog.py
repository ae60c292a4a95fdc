from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from services.products.tests.conftest import Shop
from storefront_products.dependencies import db
from storefront_products.settings import Settings


@pytest.fixture()
def catalogue(shop: Shop) -> dict[str, Any]:
    phones = shop.category("Phones")
    food = shop.category("Groceries")
    other = shop.other_vendor
    made = {
        "spark": shop.product(phones, name="Tecno Spark", description="Budget phone", price=15_000, stock=5),
        "galaxy": shop.product(phones, name="Samsung Galaxy", description="AMOLED SCREEN", price=30_000, stock=0),
        "rice": shop.product(food, name="Ofada Rice", description="100% local", price=1_200, stock=50,
                             headers=other),
        "oil": shop.product(food, name="Palm Oil", description="Red oil for stew", price=950, stock=3,
                            headers=other),
        "beans": shop.product(food, name="Honey Beans", description="Oloyin", price=1_200, stock=9),
        "hidden": shop.product(food, name="Hidden Rice", description="inactive", price=10, stock=1,
                               is_active=False),
    }
    return {"phones": phones, "food": food, **made}


def names(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 200, response.json
    return [item["name"] for item in response.json["items"]]


def test_default_order_is_newest_first_and_only_active(client: FlaskClient, catalogue: dict[str, Any]) -> None:
    assert names(client, "") == ["Honey Beans", "Palm Oil", "Ofada Rice", "Samsung Galaxy", "Tecno Spark"]


def test_search_matches_name_or_description_case_insensitively(client: FlaskClient,
                                                                 catalogue: dict[str, Any]) -> None:
    assert names(client, "q=RICE") == ["Ofada Rice"]
    assert names(client, "q=amoled") == ["Samsung Galaxy"]
    assert sorted(names(client, "q=oil")) == ["Palm Oil"]
    assert names(client, "q=100%25") == ["Ofada Rice"]
    assert names(client, "q=_") == []
    assert names(client, "q=nothing-like-this") == []


def test_filters(client: FlaskClient, shop: Shop, catalogue: dict[str, Any]) -> None:
    assert sorted(names(client, "category=phones")) == ["Samsung Galaxy", "Tecno Spark"]
    assert sorted(names(client, f"category={catalogue['food']['id']}")) == ["Honey Beans", "Ofada Rice", "Palm Oil"]
    assert names(client, "category=unknown-slug") == []
    assert sorted(names(client, f"vendor_id={shop.other_vendor_id}")) == ["Ofada Rice", "Palm Oil"]
    assert sorted(names(client, "min_price=1200&max_price=15000")) == ["Honey Beans", "Ofada Rice", "Tecno Spark"]
    assert names(client, "min_price=1200&max_price=1200&sort=name") == ["Honey Beans", "Ofada Rice"]
    assert "Samsung Galaxy" not in names(client, "in_stock=true")
    assert names(client, "in_stock=false") == ["Samsung Galaxy"]
    assert names(client, "q=rice&category=groceries&in_stock=true&vendor_id=" + str(shop.other_vendor_id)) == \
        ["Ofada Rice"]


@pytest.mark.parametrize("sort", ["name", "-name", "price", "-price", "created_at", "-created_at"])
def test_every_sort_order_with_id_tie_breaker(client: FlaskClient, catalogue: dict[str, Any], sort: str) -> None:
    items = client.get(f"/api/v1/products?sort={sort}").json["items"]
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key == "created_at":
        made = [catalogue[name] for name in ("spark", "galaxy", "rice", "oil", "beans")]
        expected = [product["id"] for product in (reversed(made) if descending else made)]
    else:
        expected = [item["id"] for item in sorted(items, key=lambda item: (item[key], uuid.UUID(item["id"])),
                                                   reverse=descending)]
    assert [item["id"] for item in items] == expected
    assert len(items) == 5


def test_pagination_walks_every_product_once(client: FlaskClient, catalogue: dict[str, Any]) -> None:
    first = client.get("/api/v1/products?per_page=2&sort=price").json
    assert {k: first[k] for k in ("page", "per_page", "total", "pages")} == \
        {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    seen = [item["name"] for page in (1, 2, 3)
            for item in client.get(f"/api/v1/products?per_page=2&sort=price&page={page}").json["items"]]
    # Rice and beans cost the same: the id decides, so no page repeats or skips one of them.
    equal_price = sorted([catalogue["rice"], catalogue["beans"]], key=lambda product: uuid.UUID(product["id"]))
    assert seen == ["Palm Oil", *(product["name"] for product in equal_price), "Tecno Spark", "Samsung Galaxy"]
    beyond = client.get("/api/v1/products?per_page=2&page=9").json
    assert beyond["items"] == [] and beyond["total"] == 5


@pytest.mark.parametrize("query", ["sort=popularity", "sort=", "min_price=10&max_price=5", "min_price=-1",
                                   "max_price=abc", "vendor_id=nope", "in_stock=maybe", "per_page=101",
                                   "per_page=0", "page=0", "q=", "price=1.5&min_price=1.5",
                                   "q=rice%00", "category=food%00"])
def test_invalid_query_values_are_422(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["errors"]


def test_the_document_says_an_inverted_price_range_is_refused(client: FlaskClient) -> None:
    parameters = client.get("/openapi.json").json["paths"]["/api/v1/products"]["get"]["parameters"]
    described = {parameter["name"]: parameter["schema"].get("description", "") for parameter in parameters}
    assert "min_price" in described["max_price"] and "422" in described["max_price"]
    response = client.get("/api/v1/products?min_price=10&max_price=5")
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "max_price", "message": "Value error, max_price must not be below min_price"}]


def test_reads_survive_the_database_dropping_connections(client: FlaskClient, shop: Shop,
                                                         settings: Settings, postgres_admin_url: str) -> None:
    product = shop.product(shop.category())
    assert client.get("/api/v1/products").json["total"] == 1
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        dropped = connection.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"),
            {"name": make_url(settings.database_url).database}).scalar()
    admin.dispose()
    assert dropped >= 1
    with client.application.app_context():
        # The session's pool lost its connections too, and pings only those idle for a second (storefront_common.db):
        # without this, the fixture's clean-up and the next test would be the ones to meet them.
        db.engine.dispose()
    assert client.get("/api/v1/products").json["total"] == 1
    assert client.get(f"/api/v1/products/{product['id']}").status_code == 200
