from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from conftest import Products
from storefront_common.testing.fuzz import fuzz_service
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TokenFactory


def test_openapi_documents_every_route(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert set(spec["paths"]) == {"/api/v1/cart", "/api/v1/cart/items", "/api/v1/cart/items/{product_id}",
                                  "/internal/carts/{user_id}", "/internal/carts/{user_id}/lines"}
    add = spec["paths"]["/api/v1/cart/items"]["post"]
    assert {"200", "401", "404", "409", "422", "503"} <= set(add["responses"])
    assert add["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CartOut"}
    assert "403" in spec["paths"]["/internal/carts/{user_id}"]["get"]["responses"]


def test_fuzzing_every_operation_finds_no_server_error(app: Flask, client: FlaskClient, tokens: TokenFactory,
                                                       products: Products) -> None:
    user_id = uuid.uuid4()
    customer = tokens.headers(user_id, ["customer"])
    service = tokens.headers("svc:orders", ["service"])
    product_id = products.product(stock=50)
    client.post("/api/v1/cart/items", headers=customer, json={"product_id": product_id, "quantity": 1})

    def headers_for(method: str, path: str) -> dict[str, str]:
        return service if path.startswith("/internal/") else customer

    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, headers_for, max_examples=12)
    assert len(report.operations) == 8
    assert report.calls >= 7 * 12
    assert report.server_errors == []
