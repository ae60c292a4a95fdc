"""The per-worker listing cache: shared public pages for a moment, then fresh again."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.products.tests.conftest import Shop
from storefront_common.dependencies import current
from storefront_products.dependencies import ProductsDependencies
from storefront_products.listing_cache import ListingCache

WINDOW = 0.5


@pytest.fixture()
def cached(app: Flask) -> Iterator[ListingCache]:
    deps = current(ProductsDependencies, app)
    deps.listing_cache = ListingCache(WINDOW, max_pages=2)
    yield deps.listing_cache
    deps.listing_cache = None


def _stock_listed(client: FlaskClient, query: str = "") -> int:
    response = client.get(f"/api/v1/products{query}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=1"
    return int(response.json["items"][0]["stock"])


def test_a_listing_is_reused_within_the_window_then_refreshed(client: FlaskClient, shop: Shop,
                                                              cached: ListingCache) -> None:
    product = shop.product(shop.category(), stock=5)
    assert _stock_listed(client) == 5
    adjusted = client.post(f"/api/v1/products/{product['id']}/inventory", json={"stock": 2}, headers=shop.vendor)
    assert adjusted.status_code == 200
    assert _stock_listed(client) == 5  # the same page, for at most the window
    assert _stock_listed(client, "?per_page=5") == 2  # another query is another page
    assert client.get(f"/api/v1/products/{product['id']}").json["stock"] == 2  # a product read is never cached
    time.sleep(WINDOW + 0.1)
    assert _stock_listed(client) == 2


def test_the_cache_holds_a_bounded_number_of_pages() -> None:
    cache = ListingCache(60, max_pages=2)
    renders: list[str] = []
    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get_or_render(key, lambda key=key: renders.append(key) or key.encode())  # type: ignore[func-returns-value]
    assert renders == ["a", "b", "c", "b"]
