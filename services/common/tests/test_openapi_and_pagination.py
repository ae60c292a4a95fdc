from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from services.common.tests.demo_app import Note, db


def test_openapi_documents_paths_bodies_and_security(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    create = spec["paths"]["/api/v1/notes"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert {"201", "400", "401", "403", "409", "422"} <= set(create["responses"])
    assert create["parameters"][0]["name"] == "Idempotency-Key" and create["parameters"][0]["in"] == "header"
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]["required"] == ["text"]
    read = spec["paths"]["/api/v1/notes/{note_id}"]["get"]
    assert read["parameters"][0] == {"name": "note_id", "in": "path", "required": True,
                                     "schema": {"type": "string", "format": "uuid"}}
    listing = spec["paths"]["/api/v1/notes"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"page", "per_page"}


def test_pagination_envelope(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        db.session.add_all(Note(owner_id=uuid.uuid4(), text=f"n{i:02d}") for i in range(45))
        db.session.commit()
    page = client.get("/api/v1/notes?page=3&per_page=20").json
    assert {k: page[k] for k in ("page", "per_page", "total", "pages")} == \
        {"page": 3, "per_page": 20, "total": 45, "pages": 3}
    assert [item["text"] for item in page["items"]] == [f"n{i}" for i in range(40, 45)]
    assert client.get("/api/v1/notes").json["per_page"] == 20


def test_bad_page_parameters_are_422(client: FlaskClient) -> None:
    for query in ("per_page=101", "per_page=0", "page=0", "page=abc"):
        response = client.get(f"/api/v1/notes?{query}")
        assert response.status_code == 422, query
        assert response.json["errors"][0]["field"] in ("page", "per_page")
