from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from conftest import Products
from storefront_carts.extensions import db
from storefront_carts.models import Cart, CartItem
from storefront_carts.settings import Settings
from storefront_common.testing.tokens import TokenFactory
from storefront_common.timeutil import utcnow


def age_cart(app: Flask, user_id: uuid.UUID, seconds: int) -> None:
    with app.app_context():
        db.session.execute(update(Cart).where(Cart.user_id == user_id)
                           .values(updated_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def filled_cart(client: FlaskClient, tokens: TokenFactory, products: Products) -> tuple[uuid.UUID, dict[str, str], str]:
    user_id = uuid.uuid4()
    headers = tokens.headers(user_id, ["customer"])
    product_id = products.product(price=700)
    response = client.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": 2})
    assert response.status_code == 200
    return user_id, headers, product_id


def test_the_default_ttl_is_seven_days() -> None:
    assert Settings().cart_ttl_seconds == 7 * 24 * 3600
    assert Settings(_env_file=None, cart_ttl_seconds=60).cart_ttl_seconds == 60


def test_a_cart_untouched_for_the_ttl_reads_as_empty(app: Flask, client: FlaskClient, tokens: TokenFactory,
                                                     products: Products, settings: Settings) -> None:
    user_id, headers, _ = filled_cart(client, tokens, products)
    age_cart(app, user_id, settings.cart_ttl_seconds - 60)
    assert len(client.get("/api/v1/cart", headers=headers).json["items"]) == 1
    age_cart(app, user_id, settings.cart_ttl_seconds + 1)
    products.log.clear()
    assert client.get("/api/v1/cart", headers=headers).json == {
        "items": [], "subtotal": 0, "currency": "NGN", "item_count": 0, "updated_at": None}
    assert products.log.lookups() == []


def test_reading_does_not_extend_the_ttl(app: Flask, client: FlaskClient, tokens: TokenFactory,
                                         products: Products, settings: Settings) -> None:
    user_id, headers, _ = filled_cart(client, tokens, products)
    age_cart(app, user_id, settings.cart_ttl_seconds - 5)
    before = client.get("/api/v1/cart", headers=headers).json["updated_at"]
    assert client.get("/api/v1/cart", headers=headers).json["updated_at"] == before


def test_changing_an_expired_cart_starts_from_empty(app: Flask, client: FlaskClient, tokens: TokenFactory,
                                                    products: Products, settings: Settings) -> None:
    user_id, headers, old_product = filled_cart(client, tokens, products)
    age_cart(app, user_id, settings.cart_ttl_seconds + 1)
    new_product = products.product("Fresh", price=50)
    response = client.post("/api/v1/cart/items", headers=headers, json={"product_id": new_product, "quantity": 1})
    assert [item["product_id"] for item in response.json["items"]] == [new_product]
    assert response.json["updated_at"] is not None
    # Adding the product that was in the expired cart counts from zero, not from the stale quantity.
    response = client.post("/api/v1/cart/items", headers=headers, json={"product_id": old_product, "quantity": 1})
    assert {item["product_id"]: item["quantity"] for item in response.json["items"]}[old_product] == 1


def test_purge_expired_carts_deletes_only_expired_ones(app: Flask, client: FlaskClient, tokens: TokenFactory,
                                                       products: Products, settings: Settings) -> None:
    stale_user, _, _ = filled_cart(client, tokens, products)
    fresh_user, fresh_headers, _ = filled_cart(client, tokens, products)
    age_cart(app, stale_user, settings.cart_ttl_seconds + 1)
    settings.purge_batch_size = 1  # several batches
    result = app.test_cli_runner().invoke(args=["purge-expired-carts"])
    assert result.exit_code == 0 and "purged 1 expired carts" in result.output
    with app.app_context():
        assert set(db.session.scalars(select(Cart.user_id))) == {fresh_user}
        assert db.session.query(CartItem).count() == 1
    assert len(client.get("/api/v1/cart", headers=fresh_headers).json["items"]) == 1


def test_internal_cart_is_the_users_cart(client: FlaskClient, tokens: TokenFactory, products: Products,
                                         service: dict[str, str]) -> None:
    user_id, headers, product_id = filled_cart(client, tokens, products)
    response = client.get(f"/internal/carts/{user_id}", headers=service)
    assert response.status_code == 200
    assert response.json == client.get("/api/v1/cart", headers=headers).json
    assert response.json["items"][0]["product_id"] == product_id
    nobody = client.get(f"/internal/carts/{uuid.uuid4()}", headers=service)
    assert nobody.status_code == 200 and nobody.json["items"] == [] and nobody.json["updated_at"] is None


def test_internal_lines_are_the_stored_lines(client: FlaskClient, tokens: TokenFactory, products: Products,
                                            service: dict[str, str]) -> None:
    user_id, headers, product_id = filled_cart(client, tokens, products)
    response = client.get(f"/internal/carts/{user_id}/lines", headers=service)
    cart = client.get("/api/v1/cart", headers=headers).json
    assert response.status_code == 200
    assert response.json == {"items": [{"product_id": item["product_id"], "quantity": item["quantity"]}
                                       for item in cart["items"]]}
    assert response.json["items"][0]["product_id"] == product_id
    assert client.get(f"/internal/carts/{uuid.uuid4()}/lines", headers=service).json == {"items": []}
    assert client.get(f"/internal/carts/{user_id}/lines", headers=headers).status_code == 403


def test_internal_delete_empties_the_cart_and_is_idempotent(client: FlaskClient, tokens: TokenFactory,
                                                            products: Products, service: dict[str, str]) -> None:
    user_id, headers, _ = filled_cart(client, tokens, products)
    assert client.delete(f"/internal/carts/{user_id}", headers=service).status_code == 204
    assert client.delete(f"/internal/carts/{user_id}", headers=service).status_code == 204
    assert client.get("/api/v1/cart", headers=headers).json["items"] == []


def test_internal_routes_need_a_service_token(client: FlaskClient, tokens: TokenFactory,
                                              products: Products) -> None:
    user_id, headers, _ = filled_cart(client, tokens, products)
    admin = tokens.headers(uuid.uuid4(), ["admin"])
    for method, path in (("GET", f"/internal/carts/{user_id}"), ("GET", f"/internal/carts/{user_id}/lines"),
                         ("DELETE", f"/internal/carts/{user_id}")):
        assert client.open(path, method=method).status_code == 401
        assert client.open(path, method=method, headers=headers).status_code == 403
        response = client.open(path, method=method, headers=admin)
        assert response.status_code == 403 and response.content_type == "application/problem+json"
    assert len(client.get("/api/v1/cart", headers=headers).json["items"]) == 1
