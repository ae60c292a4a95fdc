"""The listing at scale: cursors, ranked search with a typo fallback, estimated totals, and the query plans."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from services.products.tests.conftest import Shop
from services.products.tests.test_catalog import catalogue, names  # noqa: F401  (the fixture)
from storefront_common.dependencies import current
from storefront_common.testing.tokens import Auth
from storefront_common.timeutil import utcnow
from storefront_products import store
from storefront_products.catalog_generator import CatalogSize
from storefront_products.cursors import Position
from storefront_products.dependencies import ProductsDependencies, db
from storefront_products.schemas import ProductQuery

SORTS = ["name", "-name", "price", "-price", "created_at", "-created_at", "rating", "-rating"]


def _walk(client: FlaskClient, url: str, link: str) -> Iterator[dict[str, Any]]:
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json
        page = response.json
        expected = ", ".join(f'<{page[rel]}>; rel="{rel}"' for rel in ("next", "prev") if page[rel])
        assert response.headers.get("Link") == (expected or None)
        yield page
        url = page[link]


@pytest.mark.parametrize("sort", SORTS)
def test_cursors_walk_every_product_once_both_ways(client: FlaskClient, catalogue: dict[str, Any],  # noqa: F811
                                                   sort: str) -> None:
    numbered = [item["id"] for page in (1, 2, 3)
                for item in client.get(f"/api/v1/products?per_page=2&sort={sort}&page={page}").json["items"]]
    forwards = list(_walk(client, f"/api/v1/products?per_page=2&sort={sort}", "next"))
    assert [item["id"] for page in forwards for item in page["items"]] == numbered
    assert [page["page"] for page in forwards] == [1, 2, 3]
    assert forwards[0]["prev"] is None and forwards[-1]["next"] is None
    assert all(page["total"] == 5 and page["pages"] == 3 and page["total_is_estimate"] is False for page in forwards)
    assert forwards[1]["next"].startswith("/api/v1/products?per_page=2&sort=") and "cursor=" in forwards[1]["next"]
    backwards = list(_walk(client, forwards[-1]["prev"], "prev"))
    assert [item["id"] for page in reversed(backwards) for item in page["items"]] == numbered[:4]
    assert [page["page"] for page in backwards] == [2, 1]
    # A numbered page links on with cursors too.
    second = client.get(f"/api/v1/products?per_page=2&sort={sort}&page=2").json
    assert [item["id"] for item in client.get(second["next"]).json["items"]] == numbered[4:]
    assert [item["id"] for item in client.get(second["prev"]).json["items"]] == numbered[:2]


def test_cursors_keep_the_filters(client: FlaskClient, catalogue: dict[str, Any]) -> None:  # noqa: F811
    first = client.get("/api/v1/products?category=groceries&per_page=2").json
    assert first["total"] == 3
    rest = client.get(first["next"]).json
    assert "category=groceries" in first["next"] and rest["next"] is None
    assert {item["name"] for item in first["items"] + rest["items"]} == {"Honey Beans", "Ofada Rice", "Palm Oil"}


def _refused(client: FlaskClient, query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json  # type: ignore[no-any-return]


def test_bad_cursors_are_422(client: FlaskClient, catalogue: dict[str, Any]) -> None:  # noqa: F811
    cursor = client.get("/api/v1/products?per_page=2").json["next"].split("cursor=")[1]
    payload, checksum = cursor.split(".")
    tampered = ("A" if payload[0] != "A" else "B") + payload[1:]
    for query in (f"per_page=2&cursor={tampered}.{checksum}", f"per_page=2&cursor={payload}.{checksum[::-1]}",
                  f"per_page=3&cursor={cursor}", f"per_page=2&sort=price&cursor={cursor}",
                  "cursor=not-a-cursor", "cursor=%2E%2E", "cursor=e30.AAAA", f"per_page=2&page=2&cursor={cursor}"):
        assert [error["field"] for error in _refused(client, query)["errors"]] == ["cursor"], query
    assert _refused(client, "sort=relevance")["errors"][0]["field"] == "sort"


def test_search_is_ranked_and_defaults_to_relevance(client: FlaskClient, shop: Shop) -> None:
    audio = shop.category("Audio")
    shop.product(audio, name="Travel Pillow", description="Pairs well with wireless headphones")
    shop.product(audio, name="Oraimo Headphones", description="Over-ear, 40 hours")
    shop.product(audio, name="Kitchen Scale", description="Digital")
    assert names(client, "q=headphones") == ["Oraimo Headphones", "Travel Pillow"]  # name (A) above description (C)
    assert names(client, "q=headphone") == ["Oraimo Headphones", "Travel Pillow"]  # stemmed
    assert names(client, "q=headphones&sort=name") == ["Oraimo Headphones", "Travel Pillow"]
    assert len(names(client, "q=audio")) == 3  # the category's name is searched
    assert names(client, 'q="wireless headphones"') == ["Travel Pillow"]


def test_relevance_ranks_a_bounded_set_of_candidates_name_matches_first(client: FlaskClient, shop: Shop,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    audio = shop.category("Audio")
    # The description matches come first in the table, yet the name match is a candidate and ranks first.
    shop.product(audio, name="Travel Pillow", description="Pairs well with headphones")
    shop.product(audio, name="Desk Lamp", description="Lights your headphones")
    shop.product(audio, name="Oraimo Headphones", description="Over-ear")
    monkeypatch.setattr(store, "RANKED_CANDIDATES", 2)
    first = client.get("/api/v1/products?q=headphones&per_page=1").json
    assert [item["name"] for item in first["items"]] == ["Oraimo Headphones"]
    assert first["total"] == 3  # every match is counted, not only the candidates
    walked = [item["name"] for page in _walk(client, "/api/v1/products?q=headphones&per_page=1", "next")
              for item in page["items"]]
    assert walked[0] == "Oraimo Headphones" and len(walked) == 2
    assert names(client, "q=headphones&sort=name") == ["Desk Lamp", "Oraimo Headphones", "Travel Pillow"]


def test_a_typo_is_corrected_word_by_word(client: FlaskClient, shop: Shop) -> None:
    audio = shop.category("Audio")
    shop.product(audio, name="Wireless Headphones", description="Bluetooth", price=90_000)
    shop.product(audio, name="Bookshelf Speaker", description="Wooden cabinet, wireless", price=50_000)
    shop.product(audio, name="Studio Headphones", description="Closed-back headphones", price=70_000)
    assert names(client, "q=hedphones") == ["Studio Headphones", "Wireless Headphones"]  # ranked as `headphones`
    assert names(client, "q=wireles") == ["Wireless Headphones", "Bookshelf Speaker"]  # name above description
    assert names(client, "q=wireles%20hedphones") == ["Wireless Headphones"]  # every word corrected
    assert names(client, "q=hedphones&sort=-price") == ["Wireless Headphones", "Studio Headphones"]
    assert names(client, "q=woden") == ["Bookshelf Speaker"]  # descriptions' words too
    assert names(client, "q=zzzzqqq") == []
    typo = client.get("/api/v1/products?q=hedphones&per_page=1").json
    assert typo["total"] == 2 and [item["name"] for item in client.get(typo["next"]).json["items"]] == [
        "Wireless Headphones"]  # the next page is the corrected search's


def test_words_of_new_and_renamed_products_correct_typos(client: FlaskClient, shop: Shop) -> None:
    audio = shop.category("Audio")
    assert names(client, "q=sowndbar") == []
    bar = shop.product(audio, name="Samsung Soundbar")
    assert names(client, "q=sowndbar") == ["Samsung Soundbar"]
    renamed = client.patch(f"/api/v1/products/{bar['id']}", headers=shop.vendor, json={"name": "Samsung Subwoofer"})
    assert renamed.status_code == 200, renamed.json
    assert names(client, "q=subwofer") == ["Samsung Subwoofer"]
    # A word whose products are gone stays a correction, which then finds nothing, as the typo did.
    assert names(client, "q=sowndbar") == []


def test_renaming_or_changing_a_category_updates_what_search_finds(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category("Gadgets")
    product = shop.product(category, name="Oraimo Watch")
    assert names(client, "q=gadgets") == ["Oraimo Watch"]
    renamed = client.patch(f"/api/v1/categories/{category['id']}", headers=auth.admin(), json={"name": "Wearables"})
    assert renamed.status_code == 200, renamed.json
    assert names(client, "q=gadgets") == [] and names(client, "q=wearables") == ["Oraimo Watch"]
    other = shop.category("Jewellery")
    moved = client.patch(f"/api/v1/products/{product['id']}", headers=shop.vendor, json={"category_id": other["id"]})
    assert moved.status_code == 200
    assert names(client, "q=wearables") == [] and names(client, "q=jewellery") == ["Oraimo Watch"]


@pytest.fixture()
def small_exact_limit(app: Flask) -> Iterator[None]:
    deps = current(ProductsDependencies, app)
    settings = deps.settings
    deps.settings = settings.model_copy(update={"catalog_exact_total_limit": 3})
    yield
    deps.settings = settings


def test_totals_above_the_exact_limit_are_estimated(app: Flask, client: FlaskClient,
                                                    catalogue: dict[str, Any],  # noqa: F811
                                                    small_exact_limit: None) -> None:
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE products"))
    everything = client.get("/api/v1/products?per_page=2").json
    assert everything["total_is_estimate"] is True and everything["total"] >= 4
    assert everything["pages"] == -(-everything["total"] // 2)
    groceries = client.get("/api/v1/products?category=groceries").json
    assert groceries["total_is_estimate"] is False and groceries["total"] == 3


# The plans: no sequential scan of products for any main listing shape, on a catalogue large enough that the
# planner would choose one without the indexes.

PLAN_SHAPES = ["", *(f"sort={sort}" for sort in SORTS), "category=phones", "category=phones&sort=price",
               "category=phones&sort=-rating", "min_price=100000&max_price=900000",
               "min_price=100000&max_price=900000&sort=price", "in_stock=true", "q=headphones",
               "q=headphones&sort=price", "q=samsung%20kettle", "q=headphones&category=audio"]


def _seq_scans(plan: dict[str, Any]) -> list[str]:
    found = [plan["Relation Name"]] if plan["Node Type"] == "Seq Scan" else []
    return found + [name for child in plan.get("Plans", []) for name in _seq_scans(child)]


@pytest.fixture()
def planned_catalogue(app: Flask, client: FlaskClient) -> Iterator[Connection]:
    """30,000 generated products, analysed, and an autocommit connection to plan on (`client`: its teardown
    empties the tables)."""
    with app.app_context():
        with db.engine.begin() as connection:
            store.load_catalog(connection, CatalogSize(products=30_000), utcnow())
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE products"))
            connection.execute(text("ANALYZE categories"))
            yield connection


def test_no_listing_shape_scans_the_products_table(planned_catalogue: Connection) -> None:
    connection = planned_catalogue
    vendor = connection.execute(text("SELECT vendor_id FROM products LIMIT 1")).scalar_one()
    shapes = [*PLAN_SHAPES, f"vendor_id={vendor}"]
    for shape in shapes:
        query = ProductQuery.model_validate(dict(parse_qsl(shape)))
        # As the route asks: counted when the planner expects a small result.
        small = store.estimated_total(connection, query, False) <= 10_000
        plan = store.explain_listing(connection, query, count_up_to=10_000 if small else None)
        assert "products" not in _seq_scans(plan["Plan"]), (shape, plan)
    fallback = ProductQuery.model_validate({"q": "hedphones"})
    position = Position(0.5, uuid.uuid4(), False, 2, fallback=True)
    assert "products" not in _seq_scans(store.explain_listing(connection, fallback, position)["Plan"])


def _products_rows_read(plan: dict[str, Any]) -> int:
    """How many rows of products the executed plan touched: returned or removed by a filter or a recheck."""
    own = 0
    if plan.get("Relation Name") == "products":
        loops = plan.get("Actual Loops", 1)
        own = loops * (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                       + plan.get("Rows Removed by Index Recheck", 0))
    return own + sum(_products_rows_read(child) for child in plan.get("Plans", []))


SORTED_SEARCHES = ["q=hedphones&sort=price", "q=zzzzqqq&sort=-created_at", "q=headphones&sort=price",
                   "q=wireless%20speaker&sort=-rating&category=audio"]


def test_a_search_sorted_by_a_column_reads_its_matches_not_the_catalogue(planned_catalogue: Connection) -> None:
    """A typo sorted by price matched nothing and walked the whole price index (3 s at a million products)."""
    connection = planned_catalogue
    for shape in SORTED_SEARCHES:
        query = ProductQuery.model_validate(dict(parse_qsl(shape)))
        expected = store.estimated_total(connection, query, False)
        assert expected <= 10_000, (shape, expected)  # the route counts these: they take the matches first
        plan = store.explain_listing(connection, query, count_up_to=10_000, analyze=True)["Plan"]
        listed = store.listing_page(connection, query, None, 10_000)
        matches = listed.total if listed.total is not None else 0
        # the matches (twice: the page's and the count's) and the page; nowhere near the 30,000
        assert _products_rows_read(plan) <= 2 * matches + 2 * query.per_page + 100, (shape, matches, plan)
