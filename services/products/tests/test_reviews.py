from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from flask.testing import FlaskClient

from services.products.tests.conftest import Shop
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import Auth


def review(client: FlaskClient, auth: Auth, product_id: str, rating: int, user: uuid.UUID | None = None,
           **body: object) -> int:
    headers = auth.customer(user)
    return client.post(f"/api/v1/products/{product_id}/reviews", headers=headers,
                       json={"rating": rating, **body}).status_code


def test_review_updates_the_product_rating(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category())
    created = client.post(f"/api/v1/products/{product['id']}/reviews", headers=shop.customer,
                          json={"rating": 5, "comment": "Great battery"})
    assert created.status_code == 201
    assert created.json["rating"] == 5 and created.json["comment"] == "Great battery"
    assert created.json["user_id"] == str(shop.customer_id) and created.json["product_id"] == product["id"]
    assert review(client, auth, product["id"], 4) == 201
    assert review(client, auth, product["id"], 4) == 201
    fetched = client.get(f"/api/v1/products/{product['id']}").json
    assert fetched["rating"] == {"average": 4.33, "count": 3}


def test_one_review_per_user_per_product(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category())
    assert review(client, auth, product["id"], 5, shop.customer_id) == 201
    assert review(client, auth, product["id"], 1, shop.customer_id) == 409
    assert client.get(f"/api/v1/products/{product['id']}").json["rating"] == {"average": 5.0, "count": 1}


def test_review_rules(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category())
    path = f"/api/v1/products/{product['id']}/reviews"
    assert client.post(path, json={"rating": 3}).status_code == 401
    assert client.post(path, headers=shop.vendor, json={"rating": 3}).status_code == 403
    assert client.post(path, headers=auth.admin(), json={"rating": 3}).status_code == 403
    for body in ({"rating": 0}, {"rating": 6}, {"rating": 4.5}, {"rating": "4"}, {}, {"rating": 3, "comment": 7}):
        assert client.post(path, headers=shop.customer, json=body).status_code == 422, body
    assert review(client, auth, str(uuid.uuid4()), 3) == 404
    hidden = shop.product(shop.category("Hidden"), is_active=False)
    assert review(client, auth, hidden["id"], 3) == 404
    assert client.get(f"/api/v1/products/{hidden['id']}/reviews").status_code == 404
    assert client.get(f"/api/v1/products/{product['id']}").json["rating"]["count"] == 0


def test_a_whole_number_float_rating_is_that_rating(client: FlaskClient, shop: Shop) -> None:
    product = shop.product(shop.category())
    created = client.post(f"/api/v1/products/{product['id']}/reviews", headers=shop.customer, json={"rating": 5.0})
    assert created.status_code == 201 and created.json["rating"] == 5
    assert client.get(f"/api/v1/products/{product['id']}").json["rating"] == {"average": 5.0, "count": 1}


def test_reviews_list_is_public_paginated_newest_first(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category())
    for rating in (1, 2, 3, 4, 5):
        assert review(client, auth, product["id"], rating) == 201
    page = client.get(f"/api/v1/products/{product['id']}/reviews?per_page=2&page=1").json
    assert {k: page[k] for k in ("page", "per_page", "total", "pages")} == \
        {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    assert [item["rating"] for item in page["items"]] == [5, 4]
    last = client.get(f"/api/v1/products/{product['id']}/reviews?per_page=2&page=3").json
    assert [item["rating"] for item in last["items"]] == [1]
    assert client.get(f"/api/v1/products/{product['id']}/reviews?per_page=500").status_code == 422
    assert client.get(f"/api/v1/products/{uuid.uuid4()}/reviews").status_code == 404


def test_rating_sort(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category()
    unrated = shop.product(category, name="Unrated")
    good = shop.product(category, name="Good")
    best = shop.product(category, name="Best")
    assert review(client, auth, good["id"], 3) == 201
    assert review(client, auth, good["id"], 4) == 201
    assert review(client, auth, best["id"], 5) == 201
    items = client.get("/api/v1/products?sort=-rating").json["items"]
    assert [item["name"] for item in items] == ["Best", "Good", "Unrated"]
    assert items[1]["rating"] == {"average": 3.5, "count": 2}
    ascending = client.get("/api/v1/products?sort=rating").json["items"]
    assert [item["id"] for item in ascending] == [unrated["id"], good["id"], best["id"]]


def test_concurrent_reviews_keep_the_rating_consistent(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category())
    ratings = [1 + index % 5 for index in range(25)]
    requests_to_send = [(auth.customer(), rating) for rating in ratings]
    twin = auth.customer()
    requests_to_send += [(twin, 5)] * 5
    with serve_wsgi(app) as base_url:
        url = f"{base_url}/api/v1/products/{product['id']}/reviews"
        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(
                lambda pair: requests.post(url, headers=pair[0], json={"rating": pair[1]}).status_code,
                requests_to_send))
    assert statuses.count(201) == 26 and statuses.count(409) == 4
    rating = client.get(f"/api/v1/products/{product['id']}").json["rating"]
    assert rating == {"average": round((sum(ratings) + 5) / 26, 2), "count": 26}
    assert client.get(f"/api/v1/products/{product['id']}/reviews").json["total"] == 26
