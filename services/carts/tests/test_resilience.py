from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from services.carts.tests.conftest import Products, carts_settings
from storefront_carts.app import create_app
from storefront_carts.dependencies import db
from storefront_common.testing.servers import free_port, serve_wsgi
from storefront_common.testing.tokens import Auth, SignedServiceTokens, TokenFactory


@pytest.fixture()
def products_down(app: Flask, client: FlaskClient, carts_database: str, jwks_url: str,
                  tokens: TokenFactory) -> Iterator[FlaskClient]:
    """A second carts app on the same database whose products service does not answer."""
    settings = carts_settings(carts_database, jwks_url, f"http://127.0.0.1:{free_port()}", http_retries=1,
                              http_connect_timeout=0.5)
    broken = create_app(settings, tokens=SignedServiceTokens(tokens, "carts"))
    yield broken.test_client()
    with broken.app_context():
        db.engines[None].dispose()


def test_products_down_is_503_with_retry_after(client: FlaskClient, auth: Auth, products_down: FlaskClient,
                                               products: Products) -> None:
    orders = auth.service("orders")
    user_id = uuid.uuid4()
    headers = auth.customer(user_id)
    product_id = products.product()
    client.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": 1})
    for method, path, body in [("GET", "/api/v1/cart", None),
                               ("POST", "/api/v1/cart/items", {"product_id": product_id, "quantity": 1}),
                               ("PUT", f"/api/v1/cart/items/{product_id}", {"quantity": 2}),
                               ("DELETE", f"/api/v1/cart/items/{product_id}", None)]:
        response = products_down.open(path, method=method, headers=headers, json=body)
        assert response.status_code == 503, (method, path, response.json)
        assert response.content_type == "application/problem+json"
        assert response.headers["Retry-After"]
        assert "127.0.0.1" not in response.get_data(as_text=True)
    assert products_down.get(f"/internal/carts/{user_id}", headers=orders).status_code == 503
    # Checkout's read of the stored lines never needed products.
    assert products_down.get(f"/internal/carts/{user_id}/lines", headers=orders).json == {
        "items": [{"product_id": product_id, "quantity": 1}]}
    # Nothing changed, and what does not need products still works.
    cart = client.get("/api/v1/cart", headers=headers).json
    assert [item["quantity"] for item in cart["items"]] == [1]
    assert products_down.delete("/api/v1/cart", headers=headers).status_code == 204
    assert products_down.get("/api/v1/cart", headers=headers).status_code == 200


def test_concurrent_adds_lose_nothing(app: Flask, client: FlaskClient, auth: Auth, products: Products) -> None:
    headers = auth.customer()
    phone, case = products.product(stock=500), products.product("Case", price=100, stock=500)
    adds = 24
    with serve_wsgi(app) as base_url:
        def add(n: int) -> int:
            body = {"product_id": phone if n % 2 else case, "quantity": 1 + n % 3}
            return requests.post(f"{base_url}/api/v1/cart/items", headers=headers, json=body, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(add, range(adds)))
    assert statuses == [200] * adds
    quantities = {item["product_id"]: item["quantity"]
                  for item in client.get("/api/v1/cart", headers=headers).json["items"]}
    assert quantities == {phone: sum(1 + n % 3 for n in range(adds) if n % 2),
                          case: sum(1 + n % 3 for n in range(adds) if not n % 2)}


def test_concurrent_adds_never_pass_the_stock(app: Flask, client: FlaskClient, auth: Auth, products: Products) -> None:
    headers = auth.customer()
    phone = products.product(stock=5)
    with serve_wsgi(app) as base_url:
        def add(_: int) -> int:
            body = {"product_id": phone, "quantity": 1}
            return requests.post(f"{base_url}/api/v1/cart/items", headers=headers, json=body, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(add, range(8)))
    assert sorted(statuses) == [200] * 5 + [409] * 3
    assert client.get("/api/v1/cart", headers=headers).json["items"][0]["quantity"] == 5
