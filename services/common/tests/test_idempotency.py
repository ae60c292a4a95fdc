from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services.common.tests.demo_app import Note, db
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TokenFactory

USER = str(uuid.uuid4())


def _notes(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Note)) or 0


def test_missing_or_oversized_key_is_422(client: FlaskClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(USER, ["customer"])
    assert client.post("/api/v1/notes", json={"text": "a"}, headers=headers).status_code == 422
    too_long = {**headers, "Idempotency-Key": "k" * 256}
    assert client.post("/api/v1/notes", json={"text": "a"}, headers=too_long).status_code == 422


def test_same_key_same_body_replays_without_a_second_effect(app: Flask, client: FlaskClient,
                                                             tokens: TokenFactory) -> None:
    headers = {**tokens.headers(USER, ["customer"]), "Idempotency-Key": "order-1"}
    first = client.post("/api/v1/notes", json={"text": "a", "copies": 2}, headers=headers)
    again = client.post("/api/v1/notes", json={"copies": 2, "text": "a"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _notes(app) == 2


def test_same_key_different_body_is_409(app: Flask, client: FlaskClient, tokens: TokenFactory) -> None:
    headers = {**tokens.headers(USER, ["customer"]), "Idempotency-Key": "order-2"}
    client.post("/api/v1/notes", json={"text": "a"}, headers=headers)
    response = client.post("/api/v1/notes", json={"text": "b"}, headers=headers)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert _notes(app) == 1


def test_keys_are_scoped_to_the_caller(app: Flask, client: FlaskClient, tokens: TokenFactory) -> None:
    for user in (USER, str(uuid.uuid4())):
        headers = {**tokens.headers(user, ["customer"]), "Idempotency-Key": "shared"}
        assert client.post("/api/v1/notes", json={"text": "a"}, headers=headers).status_code == 201
    assert _notes(app) == 2


def test_client_errors_are_replayed_but_server_errors_release_the_key(app: Flask, client: FlaskClient,
                                                                      tokens: TokenFactory) -> None:
    headers = {**tokens.headers(USER, ["customer"]), "Idempotency-Key": "c1"}
    assert client.post("/api/v1/notes", json={"text": "conflict"}, headers=headers).status_code == 409
    replay = client.post("/api/v1/notes", json={"text": "conflict"}, headers=headers)
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"
    headers["Idempotency-Key"] = "c2"
    assert client.post("/api/v1/notes", json={"text": "explode"}, headers=headers).status_code == 500
    assert client.post("/api/v1/notes", json={"text": "a"}, headers=headers).status_code == 201


def test_concurrent_requests_with_one_key_have_one_effect(app: Flask, tokens: TokenFactory) -> None:
    headers = {**tokens.headers(USER, ["customer"]), "Idempotency-Key": "race"}
    with serve_wsgi(app) as base_url, ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(
            lambda _: requests.post(f"{base_url}/api/v1/notes", json={"text": "r"}, headers=headers, timeout=10),
            range(10)))
    statuses = sorted(response.status_code for response in results)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    assert _notes(app) == 1
    with app.app_context():
        db.session.execute(db.delete(Note))
        db.session.commit()
