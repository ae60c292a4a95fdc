from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.carts.tests.conftest import Products
from storefront_carts.dependencies import db
from storefront_carts.models import Cart, CartItem
from storefront_carts.settings import Settings
from storefront_common.testing.currency import configured_currency
from storefront_common.testing.tokens import Auth, TokenFactory


def add(client: FlaskClient, headers: dict[str, str], product_id: str, quantity: Any = 1) -> Any:
    return client.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": quantity})


def lines(cart: dict[str, Any]) -> dict[str, int]:
    return {item["product_id"]: item["quantity"] for item in cart["items"]}


def test_a_new_user_has_an_empty_cart_and_products_is_not_asked(client: FlaskClient, auth: Auth,
                                                                products: Products) -> None:
    customer = auth.customer()
    response = client.get("/api/v1/cart", headers=customer)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json == {"items": [], "subtotal": 0, "currency": "NGN", "item_count": 0, "updated_at": None}
    assert products.log.lookups() == []


def test_adding_accumulates_and_prices_the_lines(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone = products.product("Spark 20", price=15_000_000, stock=10)
    case = products.product("Phone case", price=250_000, stock=50)
    assert add(client, customer, phone, 2).status_code == 200
    add(client, customer, case, 3)
    response = add(client, customer, phone, 1)
    assert response.status_code == 200
    cart = response.json
    assert cart["items"] == [
        {"product_id": phone, "name": "Spark 20", "unit_price": 15_000_000, "currency": "NGN", "quantity": 3,
         "line_total": 45_000_000, "available": 10},
        {"product_id": case, "name": "Phone case", "unit_price": 250_000, "currency": "NGN", "quantity": 3,
         "line_total": 750_000, "available": 50},
    ]
    assert cart["subtotal"] == 45_750_000 and cart["item_count"] == 6 and cart["currency"] == "NGN"
    assert cart["updated_at"].endswith("Z") and len(cart["updated_at"]) == 20
    assert client.get("/api/v1/cart", headers=customer).json == cart


def test_put_sets_creates_and_removes_lines(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone, case = products.product(stock=10), products.product("Case", price=100, stock=10)
    add(client, customer, phone, 2)
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": 7})
    assert response.status_code == 200 and lines(response.json) == {phone: 7}
    # A line not yet in the cart is created (PUT sets the state, whatever it was).
    response = client.put(f"/api/v1/cart/items/{case}", headers=customer, json={"quantity": 1})
    assert lines(response.json) == {phone: 7, case: 1}
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": 0})
    assert response.status_code == 200 and lines(response.json) == {case: 1}
    # Setting an absent line to 0 is already true: 200, nothing changes.
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": 0})
    assert response.status_code == 200 and lines(response.json) == {case: 1}


def test_put_above_stock_or_of_an_unknown_product_is_refused(client: FlaskClient, auth: Auth,
                                                             products: Products) -> None:
    customer = auth.customer()
    phone = products.product(stock=3)
    add(client, customer, phone, 2)
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": 4})
    assert response.status_code == 409 and response.json["available"] == 3
    response = client.put(f"/api/v1/cart/items/{uuid.uuid4()}", headers=customer, json={"quantity": 1})
    assert response.status_code == 404
    assert lines(client.get("/api/v1/cart", headers=customer).json) == {phone: 2}


def test_delete_a_line_and_clear_the_cart(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone, case = products.product(), products.product("Case", price=100)
    add(client, customer, phone, 1)
    add(client, customer, case, 2)
    response = client.delete(f"/api/v1/cart/items/{phone}", headers=customer)
    assert response.status_code == 200 and lines(response.json) == {case: 2}
    response = client.delete(f"/api/v1/cart/items/{phone}", headers=customer)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    response = client.delete("/api/v1/cart", headers=customer)
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/v1/cart", headers=customer).json["items"] == []
    assert client.delete("/api/v1/cart", headers=customer).status_code == 204


def test_unknown_and_inactive_products_cannot_be_added(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    response = add(client, customer, str(uuid.uuid4()))
    assert response.status_code == 404 and response.json["status"] == 404
    retired = products.product()
    products.deactivate(retired)
    assert add(client, customer, retired).status_code == 404
    assert client.get("/api/v1/cart", headers=customer).json["items"] == []


def test_the_resulting_quantity_may_not_exceed_stock(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone = products.product(stock=5)
    assert add(client, customer, phone, 6).status_code == 409
    assert add(client, customer, phone, 4).status_code == 200
    response = add(client, customer, phone, 2)
    assert response.status_code == 409
    assert response.json["requested"] == 6 and response.json["available"] == 5
    assert lines(client.get("/api/v1/cart", headers=customer).json) == {phone: 4}


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "2", True, None, 1001, [1]])
def test_bad_quantities_are_422(client: FlaskClient, auth: Auth, products: Products, quantity: Any) -> None:
    customer = auth.customer()
    phone = products.product()
    response = add(client, customer, phone, quantity)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == ["quantity"]
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": quantity})
    assert response.status_code == (200 if quantity == 0 else 422)


def test_a_whole_number_float_quantity_is_that_many_units(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone = products.product(stock=500)
    assert add(client, customer, phone, 391.0).status_code == 200
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": 392.0})
    assert response.status_code == 200
    assert lines(response.json) == {phone: 392}


def test_bad_bodies(client: FlaskClient, auth: Auth) -> None:
    customer = auth.customer()
    response = client.post("/api/v1/cart/items", headers=customer, data="{not json",
                           content_type="application/json")
    assert response.status_code == 400
    response = client.post("/api/v1/cart/items", headers=customer, json={"product_id": "nope", "quantity": 1})
    assert response.status_code == 422
    response = client.post("/api/v1/cart/items", headers=customer,
                           json={"product_id": str(uuid.uuid4()), "quantity": 1, "price": 1})
    assert response.status_code == 422
    assert client.put("/api/v1/cart/items/not-a-uuid", headers=customer, json={"quantity": 1}).status_code == 404


def test_a_line_holds_at_most_1000_units(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone = products.product(stock=5000)
    assert add(client, customer, phone, 1000).status_code == 200
    assert add(client, customer, phone, 1).status_code == 409


def test_a_cart_holds_at_most_cart_max_lines_products(client: FlaskClient, auth: Auth, products: Products,
                                                      settings: Settings) -> None:
    customer = auth.customer()
    settings.cart_max_lines = 2
    first, second, third = (products.product(f"P{n}", price=100) for n in range(3))
    add(client, customer, first)
    add(client, customer, second)
    assert add(client, customer, third).status_code == 409
    assert add(client, customer, first).status_code == 200


def test_every_endpoint_needs_a_token(client: FlaskClient, tokens: TokenFactory) -> None:
    product_path = f"/api/v1/cart/items/{uuid.uuid4()}"
    for method, path in [("GET", "/api/v1/cart"), ("DELETE", "/api/v1/cart"), ("POST", "/api/v1/cart/items"),
                         ("PUT", product_path), ("DELETE", product_path)]:
        # The bad body must not matter: the missing token answers first.
        response = client.open(path, method=method, data="{bad")
        assert response.status_code == 401, (method, path)
        assert response.content_type == "application/problem+json"
    refresh = tokens.headers(uuid.uuid4(), ["customer"], type="refresh")
    assert client.get("/api/v1/cart", headers=refresh).status_code == 401
    assert client.get("/api/v1/cart", headers={"Authorization": "Bearer junk"}).status_code == 401


def test_a_service_token_has_no_cart(client: FlaskClient, auth: Auth) -> None:
    orders = auth.service("orders")
    assert client.get("/api/v1/cart", headers=orders).status_code == 403


def test_carts_belong_to_their_users(client: FlaskClient, auth: Auth, products: Products) -> None:
    alice, bob = auth.customer(), auth.vendor()
    phone, case = products.product(), products.product("Case", price=100)
    add(client, alice, phone, 2)
    assert client.get("/api/v1/cart", headers=bob).json["items"] == []
    add(client, bob, case, 1)
    assert client.delete(f"/api/v1/cart/items/{phone}", headers=bob).status_code == 404
    client.delete("/api/v1/cart", headers=bob)
    assert lines(client.get("/api/v1/cart", headers=alice).json) == {phone: 2}


def test_prices_and_stock_are_the_current_ones(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone = products.product("Spark", price=1000, stock=10)
    add(client, customer, phone, 2)
    products.update(phone, price=1500, name="Spark (2026)")
    products.set_stock(phone, 1)
    cart = client.get("/api/v1/cart", headers=customer).json
    assert cart["items"][0] | {"product_id": None} == {
        "product_id": None, "name": "Spark (2026)", "unit_price": 1500, "currency": "NGN", "quantity": 2,
        "line_total": 3000, "available": 1}
    assert cart["subtotal"] == 3000


def test_one_batch_lookup_per_cart_view(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    ids = [products.product(f"P{n}", price=100 + n) for n in range(4)]
    for product_id in ids:
        add(client, customer, product_id)
    products.log.clear()
    cart = client.get("/api/v1/cart", headers=customer).json
    assert len(cart["items"]) == 4
    lookups = products.log.lookups()
    assert len(lookups) == 1
    assert all(product_id in lookups[0] for product_id in ids)
    products.log.clear()
    add(client, customer, ids[0])  # a change, and the cart it answers with, also take one call
    assert len(products.log.lookups()) == 1


def test_a_deactivated_product_stays_visible_with_nothing_available(client: FlaskClient, auth: Auth,
                                                                    products: Products) -> None:
    customer = auth.customer()
    phone, case = products.product(price=1000), products.product("Case", price=100)
    add(client, customer, phone, 2)
    add(client, customer, case, 1)
    products.deactivate(phone)
    cart = client.get("/api/v1/cart", headers=customer).json
    assert [(item["quantity"], item["available"]) for item in cart["items"]] == [(2, 0), (1, 10)]
    assert cart["subtotal"] == 2100
    assert add(client, customer, phone).status_code == 404
    response = client.put(f"/api/v1/cart/items/{phone}", headers=customer, json={"quantity": 0})
    assert lines(response.json) == {case: 1}


def test_a_line_whose_product_is_gone_is_left_out(app: Flask, client: FlaskClient, auth: Auth,
                                                  products: Products) -> None:
    user_id = uuid.uuid4()
    headers = auth.customer(user_id)
    phone = products.product(price=1000)
    add(client, headers, phone, 1)
    ghost = uuid.uuid4()
    with app.app_context():
        cart = db.session.query(Cart).filter_by(user_id=user_id).one()
        db.session.add(CartItem(cart_id=cart.id, product_id=ghost, quantity=3))
        db.session.commit()
    cart = client.get("/api/v1/cart", headers=headers).json
    assert lines(cart) == {phone: 1} and cart["subtotal"] == 1000 and cart["item_count"] == 1
    assert client.delete(f"/api/v1/cart/items/{ghost}", headers=headers).status_code == 200


def test_a_product_in_another_currency_than_the_shops_is_422_and_the_cart_is_unchanged(
        client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    naira = products.product("Naira phone", price=1000)
    with configured_currency(products.app, "USD"):  # the shop sold in USD once
        dollars = products.product("Dollar phone", price=10)
    before = add(client, customer, naira).json
    reason = "Dollar phone is priced in USD; this shop sells and settles in NGN only."
    for response in (add(client, customer, dollars),
                     client.put(f"/api/v1/cart/items/{dollars}", headers=customer, json={"quantity": 1})):
        assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
        assert response.json["detail"] == reason
        assert response.json["errors"] == [{"field": "currency", "message": reason}]
    assert client.get("/api/v1/cart", headers=customer).json == before
    client.delete("/api/v1/cart", headers=customer)
    assert add(client, customer, dollars).status_code == 422  # a first line is held to the same rule
    assert client.get("/api/v1/cart", headers=customer).json["updated_at"] is None


def test_the_cart_is_in_the_shops_currency(client: FlaskClient, auth: Auth, products: Products,
                                           settings: Settings) -> None:
    customer = auth.customer()
    settings.storefront_currency = "GHS"
    assert client.get("/api/v1/cart", headers=customer).json["currency"] == "GHS"
    with configured_currency(products.app, "GHS"):
        cedis = products.product("Cedi phone", price=700)
        cart = add(client, customer, cedis).json
    assert (cart["currency"], cart["subtotal"], cart["items"][0]["currency"]) == ("GHS", 700, "GHS")


def test_a_line_whose_product_changed_currency_is_not_summed(client: FlaskClient, auth: Auth,
                                                             products: Products) -> None:
    customer = auth.customer()
    first, second = products.product("First", price=1000), products.product("Second", price=500)
    add(client, customer, first)
    add(client, customer, second)
    with configured_currency(products.app, "USD"):  # products was reconfigured behind the cart's back
        products.update(second, currency="USD")
    cart = client.get("/api/v1/cart", headers=customer).json
    assert [item["currency"] for item in cart["items"]] == ["NGN", "USD"]
    assert cart["currency"] == "NGN" and cart["subtotal"] == 1000 and cart["item_count"] == 2


def test_the_request_id_reaches_the_products_service(client: FlaskClient, auth: Auth, products: Products) -> None:
    customer = auth.customer()
    phone = products.product()
    add(client, customer, phone)
    products.log.clear()
    response = client.get("/api/v1/cart", headers={**customer, "X-Request-ID": "cart-view-42"})
    assert response.headers["X-Request-ID"] == "cart-view-42"
    assert products.log.request_ids == ["cart-view-42"]
