"""The shop window's pages kept for a moment for visitors who are not signed in, and only for them."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from storefront_common.dependencies import current
from storefront_web.dependencies import WebDependencies
from storefront_web.page_cache import PageCache

from services.web.tests.conftest import PageClient, Shopper


@pytest.fixture()
def kept_pages(app: Flask) -> Iterator[PageCache]:
    running = current(WebDependencies, app)
    saved = running.page_cache
    running.page_cache = PageCache(60)
    yield running.page_cache
    running.page_cache = saved


def test_a_visitor_gets_the_kept_page_and_a_signed_in_shopper_a_fresh_one(
        kept_pages: PageCache, app: Flask, api: Any, vendor: Any, make_product: Any, shopper: Shopper) -> None:
    product = make_product(name="Kept lamp")
    visitor = PageClient(app.test_client())
    first = visitor.text(f"/products/{product['id']}")
    assert "Kept lamp" in first and "Log in to buy" in first and 'name="csrf_token"' not in first
    api.expect(200, "PATCH", f"/api/v1/products/{product['id']}", vendor, json={"name": "Renamed lamp"})
    assert visitor.text(f"/products/{product['id']}") == first  # kept (for at most PAGE_CACHE_SECONDS)
    mine = shopper.visitor.text(f"/products/{product['id']}")
    assert "Renamed lamp" in mine and "Add to cart" in mine  # a signed-in shopper: fresh, with the form


def test_a_page_with_a_form_token_or_a_message_is_never_kept(kept_pages: PageCache, visitor: PageClient) -> None:
    visitor.text("/login")  # the visitor now holds a form token
    assert kept_pages.get("/login?") is None
    home = visitor.text("/")
    assert kept_pages.get("/?") is not None and 'name="csrf_token"' not in home


def test_a_message_for_one_visitor_is_not_kept_for_the_next(kept_pages: PageCache, shopper: Shopper,
                                                           app: Flask) -> None:
    assert shopper.visitor.submit("/", "/logout").status_code == 303
    assert "You are logged out." in shopper.visitor.text("/")
    assert "You are logged out." not in PageClient(app.test_client()).text("/")
