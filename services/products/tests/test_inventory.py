from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from flask.testing import FlaskClient

from services.products.tests.conftest import Shop
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import Auth


def test_delta_and_absolute_stock(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=10)
    path = f"/api/v1/products/{product['id']}/inventory"
    added = client.post(path, headers=shop.vendor, json={"delta": 5})
    assert added.status_code == 200 and added.json == {"product_id": product["id"], "stock": 15}
    assert client.post(path, headers=shop.vendor, json={"delta": -15}).json["stock"] == 0
    assert client.post(path, headers=auth.admin(), json={"stock": 42}).json["stock"] == 42
    assert shop.stock_of(product["id"]) == 42


def test_stock_never_goes_below_zero(client: FlaskClient, shop: Shop) -> None:
    product = shop.product(shop.category(), stock=3)
    path = f"/api/v1/products/{product['id']}/inventory"
    for body in ({"delta": -4}, {"stock": -1}):
        refused = client.post(path, headers=shop.vendor, json=body)
        assert refused.status_code == 409, body
        assert refused.headers["Content-Type"] == "application/problem+json"
    assert shop.stock_of(product["id"]) == 3


def test_inventory_validation_and_access(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=3)
    path = f"/api/v1/products/{product['id']}/inventory"
    for body in ({}, {"delta": 1, "stock": 1}, {"delta": 1.5}, {"stock": "4"}, {"delta": None}, {"count": 1}):
        assert client.post(path, headers=shop.vendor, json=body).status_code == 422, body
    assert client.post(path, headers=shop.vendor, data="{", content_type="application/json").status_code == 400
    assert client.post(path, headers=shop.vendor, json=[1]).status_code == 400
    assert client.post(path, json={"delta": 1}).status_code == 401
    assert client.post(path, headers=shop.customer, json={"delta": 1}).status_code == 403
    assert client.post(path, headers=shop.other_vendor, json={"delta": 1}).status_code == 403
    unknown = f"/api/v1/products/{uuid.uuid4()}/inventory"
    assert client.post(unknown, headers=auth.admin(), json={"delta": 1}).status_code == 404
    assert shop.stock_of(product["id"]) == 3


def test_concurrent_adjustments_lose_nothing_and_never_go_negative(app: Flask, client: FlaskClient,
                                                                    shop: Shop) -> None:
    product = shop.product(shop.category(), stock=20)
    headers = shop.vendor
    with serve_wsgi(app) as base_url:
        url = f"{base_url}/api/v1/products/{product['id']}/inventory"
        with ThreadPoolExecutor(max_workers=30) as pool:
            takes = list(pool.map(lambda _: requests.post(url, json={"delta": -1}, headers=headers).status_code,
                                  range(30)))
            gives = list(pool.map(lambda _: requests.post(url, json={"delta": 2}, headers=headers).status_code,
                                  range(25)))
    assert takes.count(200) == 20 and takes.count(409) == 10
    assert gives == [200] * 25
    assert shop.stock_of(product["id"]) == 50
