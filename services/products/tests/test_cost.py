"""What checkout's calls cost the database (README, "Cost per request")."""
from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from services.products.tests.conftest import Shop
from storefront_common.testing.databases import recorded_statements
from storefront_common.testing.tokens import Auth


def test_statements_per_reserve_and_commit(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    category = shop.category()
    products = [shop.product(category, name=name)["id"] for name in ("First", "Second")]
    reserved: list[str] = []

    def reserve(lines: int) -> int:
        response = client.post("/internal/reservations", headers=service, json={
            "order_id": str(uuid.uuid4()), "ttl_seconds": 600,
            "items": [{"product_id": product_id, "quantity": 1} for product_id in products[:lines]]})
        reserved.append(response.json["id"])
        return response.status_code

    def commit() -> int:
        return client.post(f"/internal/reservations/{reserved.pop()}/commit", headers=service).status_code

    # A reservation is its row and one statement per product (the conditional UPDATE and the line's INSERT),
    # in one transaction; a commit is one statement, its conditional UPDATE and the read of the reservation with
    # its lines for the answer, in autocommit.
    cases = [(201, ["BEGIN", "INSERT INTO reservations", "WITH taken AS", "COMMIT"], lambda: reserve(1)),
             (200, ["WITH moved AS"], commit),
             (201, ["BEGIN", "INSERT INTO reservations", "WITH taken AS", "WITH taken AS", "COMMIT"],
              lambda: reserve(2))]
    for status, expected, send in cases:
        with recorded_statements(app, transactions=True) as seen:
            assert send() == status
        assert seen == expected
