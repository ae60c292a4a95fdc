from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from services.products.tests.conftest import Shop
from storefront_common.testing.tokens import Auth


def test_categories_list_is_public_and_sorted_by_name(client: FlaskClient, shop: Shop) -> None:
    assert client.get("/api/v1/categories").json == {"items": []}
    shop.category("Phones & Tablets", ["brand", "storage"], description="Handsets")
    shop.category("Fashion")
    listed = client.get("/api/v1/categories")
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == "application/json"
    assert [item["slug"] for item in listed.json["items"]] == ["fashion", "phones-tablets"]
    phones = listed.json["items"][1]
    assert set(phones) == {"id", "name", "slug", "description", "attributes"}
    assert phones["attributes"] == ["brand", "storage"] and phones["description"] == "Handsets"


def test_slug_is_derived_from_the_name_and_unique(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    created = shop.category("Café & Bar  Stools!")
    assert created["slug"] == "cafe-bar-stools"
    clash = client.post("/api/v1/categories", headers=auth.admin(), json={"name": "cafe bar stools"})
    assert clash.status_code == 409
    assert clash.headers["Content-Type"] == "application/problem+json"
    assert clash.json["status"] == 409


def test_only_admins_write_categories(client: FlaskClient, shop: Shop) -> None:
    assert client.post("/api/v1/categories", json={"name": "Books"}).status_code == 401
    assert client.post("/api/v1/categories", headers=shop.vendor, json={"name": "Books"}).status_code == 403
    category = shop.category("Books")
    path = f"/api/v1/categories/{category['id']}"
    assert client.patch(path, headers=shop.customer, json={"name": "Comics"}).status_code == 403
    assert client.delete(path, headers=shop.vendor).status_code == 403
    assert client.delete(path).status_code == 401


def test_invalid_category_bodies(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    post = lambda **kwargs: client.post("/api/v1/categories", headers=auth.admin(), **kwargs)  # noqa: E731
    assert post(data="{not json", content_type="application/json").status_code == 400
    assert post(json=["Books"]).status_code == 400
    for body in ({}, {"name": ""}, {"name": "!!!"}, {"name": "Books", "attributes": ["size", "size"]},
                 {"name": "Books", "attributes": "size"}, {"name": "Books", "colour": "red"},
                 {"name": "x" * 101}):
        response = post(json=body)
        assert response.status_code == 422, body
        assert response.json["errors"], body


def test_patch_renames_with_a_new_slug(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    books = shop.category("Books")
    shop.category("Music")
    path = f"/api/v1/categories/{books['id']}"
    renamed = client.patch(path, headers=auth.admin(), json={"name": "Rare Books", "attributes": ["author"]})
    assert renamed.status_code == 200
    assert renamed.json["slug"] == "rare-books" and renamed.json["attributes"] == ["author"]
    assert client.patch(path, headers=auth.admin(), json={"name": "music"}).status_code == 409
    assert client.patch(path, headers=auth.admin(), json={"name": None}).status_code == 422
    missing = f"/api/v1/categories/{uuid.uuid4()}"
    assert client.patch(missing, headers=auth.admin(), json={"name": "X"}).status_code == 404


def test_delete_refuses_a_category_with_active_products(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category("Phones")
    product = shop.product(category)
    path = f"/api/v1/categories/{category['id']}"
    assert client.delete(path, headers=auth.admin()).status_code == 409
    assert client.delete(f"/api/v1/products/{product['id']}", headers=shop.vendor).status_code == 204
    assert client.delete(path, headers=auth.admin()).status_code == 204
    assert client.get("/api/v1/categories").json == {"items": []}
    orphan = client.get(f"/api/v1/products/{product['id']}", headers=shop.vendor).json
    assert orphan["category"] is None
    reactivate = client.patch(f"/api/v1/products/{product['id']}", headers=shop.vendor, json={"is_active": True})
    assert reactivate.status_code == 422
    assert client.delete(path, headers=auth.admin()).status_code == 404
