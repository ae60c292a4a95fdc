from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from services.carts.tests.conftest import Products
from storefront_common.testing.fuzz import FuzzReport, fuzz_service, token_callers
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import Auth, TokenFactory

OPERATIONS = 8


def test_openapi_documents_every_route(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert set(spec["paths"]) == {"/api/v1/cart", "/api/v1/cart/items", "/api/v1/cart/items/{product_id}",
                                  "/internal/carts/{user_id}", "/internal/carts/{user_id}/lines",
                                  "/internal/carts/{user_id}/checkouts"}
    add = spec["paths"]["/api/v1/cart/items"]["post"]
    assert {"200", "401", "404", "409", "422", "503"} <= set(add["responses"])
    assert add["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CartOut"}
    assert "403" in spec["paths"]["/internal/carts/{user_id}"]["get"]["responses"]


def test_every_answer_is_documented_for_every_caller(app: Flask, client: FlaskClient, tokens: TokenFactory, auth: Auth,
                                                     products: Products,
                                                     fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    customer_id = uuid.uuid4()
    product_id = products.product(stock=50)
    client.post("/api/v1/cart/items", headers=auth.customer(customer_id),
                json={"product_id": product_id, "quantity": 1})
    callers = token_callers(tokens, {"customer": customer_id})
    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, callers)
    fuzz_note("carts", report)
    report.assert_documented(OPERATIONS)
