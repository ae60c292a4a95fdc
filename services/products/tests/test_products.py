from __future__ import annotations

import json
import uuid

from flask import Flask
from flask.testing import FlaskClient

from services.products.tests.conftest import Shop
from storefront_common.testing.currency import configured_currency
from storefront_common.testing.tokens import Auth
from storefront_products.schemas import ProductOut

PRODUCT_KEYS = {"id", "name", "slug", "description", "price", "currency", "stock", "category", "vendor_id",
                "attributes", "images", "rating", "is_active", "created_at", "updated_at"}


def test_create_returns_the_contract_product_object(client: FlaskClient, shop: Shop) -> None:
    category = shop.category("Phones", ["brand", "storage"])
    created = shop.product(category, name="Tecno Spark 20 Pro", description="256 GB", price=21_500_000,
                           stock=7, attributes={"brand": "Tecno"}, images=["https://img.example/1.jpg"])
    assert set(created) == PRODUCT_KEYS
    ProductOut.model_validate(created)
    assert created["slug"] == "tecno-spark-20-pro"
    assert created["currency"] == "NGN"
    assert created["vendor_id"] == str(shop.vendor_id)
    assert created["category"] == {"id": category["id"], "slug": "phones", "name": "Phones"}
    assert created["rating"] == {"average": 0.0, "count": 0}
    assert created["is_active"] is True
    assert created["created_at"].endswith("Z")
    fetched = client.get(f"/api/v1/products/{created['id']}")
    assert fetched.status_code == 200 and fetched.json == created


def test_admin_may_create_and_sell_as_itself(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category()
    admin_id = uuid.uuid4()
    created = shop.product(category, headers=auth.admin(admin_id))
    assert created["vendor_id"] == str(admin_id) and created["currency"] == "NGN"


def test_create_needs_a_vendor_or_admin_access_token(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category()
    body = {"name": "Phone", "price": 100, "stock": 1, "category_id": category["id"]}
    assert client.post("/api/v1/products", json=body).status_code == 401
    assert client.post("/api/v1/products", headers=shop.customer, json=body).status_code == 403
    refresh = auth.tokens.headers(shop.vendor_id, ["vendor"], type="refresh")
    assert client.post("/api/v1/products", headers=refresh, json=body).status_code == 401
    expired = auth.tokens.headers(shop.vendor_id, ["vendor"], exp=1)
    assert client.post("/api/v1/products", headers=expired, json=body).status_code == 401


def test_create_validates_money_stock_currency_and_attributes(client: FlaskClient, shop: Shop) -> None:
    category = shop.category("Fashion", ["size"])
    valid = {"name": "Dress", "price": 100, "stock": 1, "category_id": category["id"]}
    invalid = [{"price": 2.5}, {"price": "2"}, {"price": 0}, {"price": -5}, {"price": True},
               {"stock": -1}, {"stock": 2.5}, {"stock": "3"}, {"currency": "EUR"}, {"currency": "ngn"},
               {"category_id": str(uuid.uuid4())}, {"category_id": "phones"}, {"attributes": {"colour": "red"}},
               {"images": ["not a url"]}, {"images": ["//elsewhere.example/x.png"]},
               {"images": ["javascript:alert(1)//"]}, {"name": ""}, {"is_active": "yes"}, {"vendor_id": str(uuid.uuid4())},
               {"name": "Dre\u0000ss"}, {"description": "\u0000"}, {"attributes": {"size": "M\u0000"}}]
    for change in invalid:
        response = client.post("/api/v1/products", headers=shop.vendor, json={**valid, **change})
        assert response.status_code == 422, change
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["errors"][0]["field"], change
    unknown_key = client.post("/api/v1/products", headers=shop.vendor, json={**valid, "attributes": {"colour": 1}})
    assert unknown_key.json["errors"] == [
        {"field": "attributes.colour", "message": "Not an attribute of the category."}]
    for raw_value in ("NaN", "Infinity", "1e400"):
        raw = json.dumps({**valid, "attributes": {"size": 1}}).replace("1}", f"{raw_value}}}")
        response = client.post("/api/v1/products", headers=shop.vendor, data=raw, content_type="application/json")
        assert response.status_code == 422, raw_value
    missing_price = {key: value for key, value in valid.items() if key != "price"}
    assert client.post("/api/v1/products", headers=shop.vendor, json=missing_price).status_code == 422
    assert client.post("/api/v1/products", headers=shop.vendor, data="[1", content_type="application/json"
                       ).status_code == 400
    assert client.get("/api/v1/products").json["total"] == 0


def test_a_product_in_another_currency_than_the_shops_is_422_and_not_stored(client: FlaskClient,
                                                                            shop: Shop) -> None:
    category = shop.category()
    body = {"name": "Dollar phone", "price": 100, "stock": 1, "category_id": category["id"], "currency": "USD"}
    response = client.post("/api/v1/products", headers=shop.vendor, json=body)
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    reason = "The product is priced in USD; this shop sells and settles in NGN only."
    assert response.json["detail"] == reason
    assert response.json["errors"] == [{"field": "currency", "message": reason}]
    assert client.get("/api/v1/products").json["total"] == 0
    assert shop.product(category, currency="NGN")["currency"] == "NGN"


def test_the_shops_currency_is_the_default_and_the_only_one_once_configured(app: Flask, client: FlaskClient,
                                                                            shop: Shop) -> None:
    category = shop.category()
    with configured_currency(app, "GHS"):
        assert shop.product(category)["currency"] == "GHS"
        naira = {"name": "Naira phone", "price": 100, "stock": 1, "category_id": category["id"], "currency": "NGN"}
        refused = client.post("/api/v1/products", headers=shop.vendor, json=naira)
        assert refused.status_code == 422 and "settles in GHS only" in refused.json["detail"]
    assert [item["currency"] for item in client.get("/api/v1/products").json["items"]] == ["GHS"]


def test_a_product_is_changed_only_into_the_shops_currency(app: Flask, client: FlaskClient, shop: Shop) -> None:
    category = shop.category()
    naira = shop.product(category, name="Naira phone", price=1_000)
    path = f"/api/v1/products/{naira['id']}"
    refused = client.patch(path, headers=shop.vendor, json={"currency": "USD", "price": 10})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "currency"
    assert client.get(path).json == naira
    with configured_currency(app, "USD"):  # the shop sold in USD once
        dollars = shop.product(category, name="Dollar phone", price=10)
    dollar_path = f"/api/v1/products/{dollars['id']}"
    # Priced before the shop settled in NGN: changed only together with the shop's currency.
    assert client.patch(dollar_path, headers=shop.vendor, json={"price": 20}).status_code == 422
    assert client.get(dollar_path).json["price"] == 10
    repriced = client.patch(dollar_path, headers=shop.vendor, json={"currency": "NGN", "price": 15_000})
    assert repriced.status_code == 200 and (repriced.json["currency"], repriced.json["price"]) == ("NGN", 15_000)


def test_inactive_product_is_visible_only_to_its_vendor_and_admins(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), is_active=False)
    path = f"/api/v1/products/{product['id']}"
    assert client.get(path).status_code == 404
    assert client.get(path, headers=shop.other_vendor).status_code == 404
    assert client.get(path, headers=shop.customer).status_code == 404
    assert client.get(path, headers=shop.vendor).json["is_active"] is False
    assert client.get(path, headers=auth.admin()).status_code == 200
    assert client.get(f"/api/v1/products/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/v1/products/not-a-uuid").status_code == 404
    assert client.get(path, headers={"Authorization": "Bearer garbage"}).status_code == 401


def test_patch_by_the_owner_changes_fields_and_slug(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    phones = shop.category("Phones", ["brand"])
    fashion = shop.category("Fashion", ["size"])
    product = shop.product(phones, attributes={"brand": "Tecno"})
    path = f"/api/v1/products/{product['id']}"
    changed = client.patch(path, headers=shop.vendor, json={"name": "Tecno Camon 30", "price": 30_000_000})
    assert changed.status_code == 200
    assert (changed.json["name"], changed.json["slug"], changed.json["price"]) == \
        ("Tecno Camon 30", "tecno-camon-30", 30_000_000)
    assert changed.json["attributes"] == {"brand": "Tecno"}
    # Moving to a category without the product's attribute keys needs new attributes.
    assert client.patch(path, headers=shop.vendor, json={"category_id": fashion["id"]}).status_code == 422
    moved = client.patch(path, headers=shop.vendor, json={"category_id": fashion["id"], "attributes": {"size": "M"}})
    assert moved.json["category"]["slug"] == "fashion" and moved.json["attributes"] == {"size": "M"}
    assert client.patch(path, headers=auth.admin(), json={"description": "by admin"}).json["description"] == "by admin"


def test_patch_rules(client: FlaskClient, shop: Shop) -> None:
    product = shop.product(shop.category())
    path = f"/api/v1/products/{product['id']}"
    assert client.patch(path, headers=shop.other_vendor, json={"price": 1}).status_code == 403
    assert client.patch(path, headers=shop.customer, json={"price": 1}).status_code == 403
    assert client.patch(path, json={"price": 1}).status_code == 401
    assert client.patch(f"/api/v1/products/{uuid.uuid4()}", headers=shop.vendor, json={"price": 1}).status_code == 404
    for body in ({"stock": 5}, {"price": 0}, {"price": 1.5}, {"name": None}, {"vendor_id": str(uuid.uuid4())}):
        assert client.patch(path, headers=shop.vendor, json=body).status_code == 422, body
    assert shop.stock_of(product["id"]) == 10
    hidden = shop.product(shop.category("Hidden"), is_active=False)
    hidden_path = f"/api/v1/products/{hidden['id']}"
    assert client.patch(hidden_path, headers=shop.other_vendor, json={"price": 1}).status_code == 404
    assert client.delete(hidden_path, headers=shop.other_vendor).status_code == 404


def test_delete_is_a_soft_delete(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category())
    path = f"/api/v1/products/{product['id']}"
    assert client.delete(path, headers=shop.other_vendor).status_code == 403
    assert client.delete(path, headers=shop.customer).status_code == 403
    assert client.delete(path).status_code == 401
    deleted = client.delete(path, headers=shop.vendor)
    assert deleted.status_code == 204 and deleted.data == b""
    assert client.get(path).status_code == 404
    assert client.get("/api/v1/products").json["total"] == 0
    assert client.get(path, headers=shop.vendor).json["is_active"] is False
    assert client.delete(path, headers=shop.vendor).status_code == 204
    assert client.delete(f"/api/v1/products/{uuid.uuid4()}", headers=auth.admin()).status_code == 404
    restored = client.patch(path, headers=shop.vendor, json={"is_active": True})
    assert restored.status_code == 200 and client.get(path).status_code == 200


def test_internal_batch_lookup(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    category = shop.category()
    first = shop.product(category, name="First", price=500)
    second = shop.product(category, name="Second", is_active=False)
    unknown = str(uuid.uuid4())
    ids = f"{second['id']},{unknown},{first['id']}"
    found = client.get(f"/internal/products?ids={ids}", headers=service)
    assert found.status_code == 200
    assert found.json == {
        "items": [
            {"id": second["id"], "name": "Second", "price": 15_000_000, "currency": "NGN", "stock": 10,
             "is_active": False, "vendor_id": str(shop.vendor_id)},
            {"id": first["id"], "name": "First", "price": 500, "currency": "NGN", "stock": 10,
             "is_active": True, "vendor_id": str(shop.vendor_id)},
        ],
        "missing": [unknown],
    }
    assert client.get(f"/internal/products?ids={ids}").status_code == 401
    assert client.get(f"/internal/products?ids={ids}", headers=auth.admin()).status_code == 403
    too_many = ",".join(str(uuid.uuid4()) for _ in range(101))
    for bad in ("", "ids=", "ids=nope", f"ids={too_many}"):
        assert client.get(f"/internal/products?{bad}", headers=service).status_code == 422, bad


def test_every_route_is_documented(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert ("/internal/products", "get") in documented
    assert ("/internal/reservations/{reservation_id}/release", "post") in documented
    assert len(documented) == 18
    schemas = spec["components"]["schemas"]
    assert {"ProductOut", "CategoryOut", "ReviewOut", "ReservationOut"} <= set(schemas)
    assert spec["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]
