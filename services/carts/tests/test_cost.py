"""What a request costs the database and the products service (README, "Cost per request")."""
from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from services.carts.tests.conftest import Products
from storefront_common.testing.databases import recorded_statements
from storefront_common.testing.tokens import Auth


def test_round_trips_and_lookups_per_request(app: Flask, client: FlaskClient, auth: Auth, products: Products) -> None:
    orders = auth.service("orders")
    user_id = uuid.uuid4()
    headers = auth.customer(user_id)
    body = {"product_id": products.product(), "quantity": 1}
    bought = {"order_id": str(uuid.uuid4()), "items": [{"product_id": body["product_id"], "quantity": 2}]}
    # Round trips as psycopg2 sends them: a statement alone runs in autocommit, without BEGIN and COMMIT.
    cases = [(["SELECT", "WITH"], 1, lambda: client.post("/api/v1/cart/items", headers=headers, json=body)),
             (["SELECT", "BEGIN", "INSERT", "SELECT", "INSERT", "UPDATE", "COMMIT"], 1,
              lambda: client.post("/api/v1/cart/items", headers=headers, json=body)),
             (["SELECT"], 1, lambda: client.get(f"/internal/carts/{user_id}", headers=orders)),
             (["SELECT"], 0, lambda: client.get(f"/internal/carts/{user_id}/lines", headers=orders)),
             (["BEGIN", "INSERT", "SELECT", "SELECT", "DELETE", "UPDATE", "COMMIT"], 0,
              lambda: client.post(f"/internal/carts/{user_id}/checkouts", headers=orders, json=bought)),
             (["BEGIN", "INSERT", "ROLLBACK"], 0,
              lambda: client.post(f"/internal/carts/{user_id}/checkouts", headers=orders, json=bought)),
             (["SELECT"], 0, lambda: client.get("/api/v1/cart", headers=headers))]
    for expected_round_trips, expected_lookups, send in cases:
        products.log.clear()
        with recorded_statements(app, words=1, transactions=True) as seen:
            assert send().status_code in (200, 204)
        assert (seen, len(products.log.lookups())) == (expected_round_trips, expected_lookups)
