from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from services.carts.tests.conftest import Products
from storefront_carts.dependencies import db
from storefront_carts.models import Cart, CartItem
from storefront_carts.settings import Settings
from storefront_common.testing.tokens import Auth
from storefront_common.timeutil import utcnow


def age_cart(app: Flask, user_id: uuid.UUID, seconds: int) -> None:
    with app.app_context():
        db.session.execute(update(Cart).where(Cart.user_id == user_id)
                           .values(updated_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def filled_cart(client: FlaskClient, auth: Auth, products: Products) -> tuple[uuid.UUID, dict[str, str], str]:
    user_id = uuid.uuid4()
    headers = auth.customer(user_id)
    product_id = products.product(price=700)
    response = client.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": 2})
    assert response.status_code == 200
    return user_id, headers, product_id


def test_the_default_ttl_is_seven_days() -> None:
    assert Settings().cart_ttl_seconds == 7 * 24 * 3600
    assert Settings(_env_file=None, cart_ttl_seconds=60).cart_ttl_seconds == 60


def test_a_cart_untouched_for_the_ttl_reads_as_empty(app: Flask, client: FlaskClient, auth: Auth, products: Products,
                                                     settings: Settings) -> None:
    user_id, headers, _ = filled_cart(client, auth, products)
    age_cart(app, user_id, settings.cart_ttl_seconds - 60)
    assert len(client.get("/api/v1/cart", headers=headers).json["items"]) == 1
    age_cart(app, user_id, settings.cart_ttl_seconds + 1)
    products.log.clear()
    assert client.get("/api/v1/cart", headers=headers).json == {
        "items": [], "subtotal": 0, "currency": "NGN", "item_count": 0, "updated_at": None}
    assert products.log.lookups() == []


def test_reading_does_not_extend_the_ttl(app: Flask, client: FlaskClient, auth: Auth, products: Products,
                                         settings: Settings) -> None:
    user_id, headers, _ = filled_cart(client, auth, products)
    age_cart(app, user_id, settings.cart_ttl_seconds - 5)
    before = client.get("/api/v1/cart", headers=headers).json["updated_at"]
    assert client.get("/api/v1/cart", headers=headers).json["updated_at"] == before


def test_changing_an_expired_cart_starts_from_empty(app: Flask, client: FlaskClient, auth: Auth, products: Products,
                                                    settings: Settings) -> None:
    user_id, headers, old_product = filled_cart(client, auth, products)
    age_cart(app, user_id, settings.cart_ttl_seconds + 1)
    new_product = products.product("Fresh", price=50)
    response = client.post("/api/v1/cart/items", headers=headers, json={"product_id": new_product, "quantity": 1})
    assert [item["product_id"] for item in response.json["items"]] == [new_product]
    assert response.json["updated_at"] is not None
    # Adding the product that was in the expired cart counts from zero, not from the stale quantity.
    response = client.post("/api/v1/cart/items", headers=headers, json={"product_id": old_product, "quantity": 1})
    assert {item["product_id"]: item["quantity"] for item in response.json["items"]}[old_product] == 1


def test_purge_expired_carts_deletes_only_expired_ones(app: Flask, client: FlaskClient, auth: Auth, products: Products,
                                                       settings: Settings) -> None:
    stale_user, _, _ = filled_cart(client, auth, products)
    fresh_user, fresh_headers, _ = filled_cart(client, auth, products)
    age_cart(app, stale_user, settings.cart_ttl_seconds + 1)
    settings.purge_batch_size = 1  # several batches
    result = app.test_cli_runner().invoke(args=["purge-expired-carts"])
    assert result.exit_code == 0 and "purged 1 expired carts" in result.output
    with app.app_context():
        assert set(db.session.scalars(select(Cart.user_id))) == {fresh_user}
        assert db.session.query(CartItem).count() == 1
    assert len(client.get("/api/v1/cart", headers=fresh_headers).json["items"]) == 1


def test_internal_cart_is_the_users_cart(client: FlaskClient, auth: Auth, products: Products) -> None:
    orders = auth.service("orders")
    user_id, headers, product_id = filled_cart(client, auth, products)
    response = client.get(f"/internal/carts/{user_id}", headers=orders)
    assert response.status_code == 200
    assert response.json == client.get("/api/v1/cart", headers=headers).json
    assert response.json["items"][0]["product_id"] == product_id
    nobody = client.get(f"/internal/carts/{uuid.uuid4()}", headers=orders)
    assert nobody.status_code == 200 and nobody.json["items"] == [] and nobody.json["updated_at"] is None


def test_internal_lines_are_the_stored_lines(client: FlaskClient, auth: Auth, products: Products) -> None:
    orders = auth.service("orders")
    user_id, headers, product_id = filled_cart(client, auth, products)
    response = client.get(f"/internal/carts/{user_id}/lines", headers=orders)
    cart = client.get("/api/v1/cart", headers=headers).json
    assert response.status_code == 200
    assert response.json == {"items": [{"product_id": item["product_id"], "quantity": item["quantity"]}
                                       for item in cart["items"]]}
    assert response.json["items"][0]["product_id"] == product_id
    assert client.get(f"/internal/carts/{uuid.uuid4()}/lines", headers=orders).json == {"items": []}
    assert client.get(f"/internal/carts/{user_id}/lines", headers=headers).status_code == 403


def cart_lines(client: FlaskClient, user_id: uuid.UUID, service: dict[str, str]) -> dict[str, int]:
    response = client.get(f"/internal/carts/{user_id}/lines", headers=service)
    assert response.status_code == 200
    return {item["product_id"]: item["quantity"] for item in response.json["items"]}


def checkout(order_id: uuid.UUID, *lines: tuple[str, int]) -> dict[str, object]:
    return {"order_id": str(order_id),
            "items": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines]}


def test_a_paid_order_takes_only_its_units_out_of_the_cart_once(client: FlaskClient, auth: Auth,
                                                                products: Products) -> None:
    orders = auth.service("orders")
    user_id, headers, kept = filled_cart(client, auth, products)  # 2 units, one of which the order buys
    gone, added_later, elsewhere = (products.product() for _ in range(3))
    for product_id, quantity in ((gone, 1), (added_later, 3)):
        assert client.post("/api/v1/cart/items", headers=headers,
                           json={"product_id": product_id, "quantity": quantity}).status_code == 200
    order_id = uuid.uuid4()
    path = f"/internal/carts/{user_id}/checkouts"
    body = checkout(order_id, (kept, 1), (gone, 1), (elsewhere, 4))

    response = client.post(path, headers=orders, json=body)
    assert response.status_code == 204 and response.data == b""
    assert cart_lines(client, user_id, orders) == {kept: 1, added_later: 3}
    # A repeat (the answer was lost, orders asks again) changes nothing, not even a line bought again since.
    assert client.post("/api/v1/cart/items", headers=headers,
                       json={"product_id": gone, "quantity": 1}).status_code == 200
    assert client.post(path, headers=orders, json=body).status_code == 204
    assert cart_lines(client, user_id, orders) == {kept: 1, added_later: 3, gone: 1}
    # Another order taking more units than a line holds removes the line.
    assert client.post(path, headers=orders, json=checkout(uuid.uuid4(), (added_later, 5))).status_code == 204
    assert cart_lines(client, user_id, orders) == {kept: 1, gone: 1}


def test_a_paid_order_of_a_buyer_without_a_cart_leaves_no_cart(client: FlaskClient, auth: Auth,
                                                               products: Products) -> None:
    orders = auth.service("orders")
    user_id = uuid.uuid4()
    response = client.post(f"/internal/carts/{user_id}/checkouts", headers=orders,
                           json=checkout(uuid.uuid4(), (products.product(), 1)))
    assert response.status_code == 204
    assert client.get(f"/internal/carts/{user_id}", headers=orders).json["updated_at"] is None


def test_a_bad_checkout_body_is_422_and_changes_nothing(client: FlaskClient, auth: Auth, products: Products) -> None:
    orders = auth.service("orders")
    user_id, _, product_id = filled_cart(client, auth, products)
    order_id = uuid.uuid4()
    good = checkout(order_id, (product_id, 1))
    line = {"product_id": product_id, "quantity": 1}
    bad_bodies = [{}, {"items": [line]}, {"order_id": str(order_id)}, {"order_id": str(order_id), "items": []},
                  {**good, "items": [{**line, "quantity": 0}]}, {**good, "items": [{**line, "quantity": "1"}]},
                  {**good, "items": [{**line, "quantity": 1001}]}, {**good, "items": [line, line]},
                  {**good, "items": [{"product_id": "not-a-uuid", "quantity": 1}]}, {**good, "user_id": str(user_id)},
                  {"order_id": "not-a-uuid", "items": [line]}]
    for body in bad_bodies:
        response = client.post(f"/internal/carts/{user_id}/checkouts", headers=orders, json=body)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"
    assert cart_lines(client, user_id, orders) == {product_id: 2}
    # None of them recorded the order: the good body still takes its unit out.
    assert client.post(f"/internal/carts/{user_id}/checkouts", headers=orders, json=good).status_code == 204
    assert cart_lines(client, user_id, orders) == {product_id: 1}


def test_internal_routes_need_a_service_token(client: FlaskClient, auth: Auth, products: Products) -> None:
    user_id, headers, product_id = filled_cart(client, auth, products)
    admin = auth.admin()
    body = checkout(uuid.uuid4(), (product_id, 2))
    for method, path in (("GET", f"/internal/carts/{user_id}"), ("GET", f"/internal/carts/{user_id}/lines"),
                         ("POST", f"/internal/carts/{user_id}/checkouts")):
        json = body if method == "POST" else None
        assert client.open(path, method=method, json=json).status_code == 401
        assert client.open(path, method=method, json=json, headers=headers).status_code == 403
        response = client.open(path, method=method, json=json, headers=admin)
        assert response.status_code == 403 and response.content_type == "application/problem+json"
    assert len(client.get("/api/v1/cart", headers=headers).json["items"]) == 1
