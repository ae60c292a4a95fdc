"""What checkout's calls cost the database (README, "Cost per request")."""
from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from conftest import Shop
from storefront_common.testing.databases import recorded_statements


def test_statements_per_reserve_and_commit(app: Flask, client: FlaskClient, shop: Shop) -> None:
    category = shop.category()
    products = [shop.product(category, name=name)["id"] for name in ("First", "Second")]
    reserved: list[str] = []

    def reserve(lines: int) -> int:
        response = client.post("/internal/reservations", headers=shop.service, json={
            "order_id": str(uuid.uuid4()), "ttl_seconds": 600,
            "items": [{"product_id": product_id, "quantity": 1} for product_id in products[:lines]]})
        reserved.append(response.json["id"])
        return response.status_code

    def commit() -> int:
        return client.post(f"/internal/reservations/{reserved.pop()}/commit", headers=shop.service).status_code

    # A reservation is its row, one conditional UPDATE per product and one INSERT of all its lines; a commit
    # is one conditional UPDATE and one read of the reservation with its lines for the answer.
    cases = [(201, ["INSERT INTO reservations", "UPDATE products SET", "INSERT INTO reservation_items"],
              lambda: reserve(1)),
             (200, ["UPDATE reservations SET", "SELECT reservations.id, reservations.order_id,"], commit),
             (201, ["INSERT INTO reservations", "UPDATE products SET", "UPDATE products SET",
                    "INSERT INTO reservation_items"], lambda: reserve(2))]
    for status, expected, send in cases:
        with recorded_statements(app) as seen:
            assert send() == status
        assert seen == expected
