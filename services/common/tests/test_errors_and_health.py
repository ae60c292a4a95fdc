from __future__ import annotations

import io
import json
import logging

import pytest
from flask.testing import FlaskClient

from services.common.tests.demo_app import create_app
from storefront_common.logging_setup import log_handler
from storefront_common.settings import CommonSettings
from storefront_common.testing.servers import free_port


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_readyz_answers_503_when_the_database_is_down() -> None:
    settings = CommonSettings(service_name="demo", database_url=f"postgresql://nobody@127.0.0.1:{free_port()}/x")
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"]
    assert "nobody" not in response.get_data(as_text=True)


def test_request_id_is_echoed_or_generated(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    forged = client.get("/healthz", headers={"X-Request-ID": "evil <script> line"}).headers["X-Request-ID"]
    assert forged != "evil <script> line" and len(forged) == 32


def test_unknown_route_and_method_are_problems(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.json["status"] == 404 and missing.json["title"] == "Not Found"
    wrong_method = client.delete("/api/v1/notes")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]


def test_unexpected_error_hides_everything(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/notes/boom", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "hunter2" not in body and "Traceback" not in body and ".py" not in body
    assert any("unhandled error" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("payload, status", [
    (b"{not json", 400), (b"[1, 2]", 400), (b'"text"', 400), (b"", 400),
    (b'{"text": ""}', 422), (b'{"text": "a", "copies": "2"}', 422), (b'{"text": "a", "copies": 2.5}', 422),
    (b'{"text": "a", "extra": 1}', 422), (b'{"copies": 1}', 422),
])
def test_bad_bodies(client: FlaskClient, tokens, payload: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    headers = {**tokens.headers("7a3e4f8e-4c4b-4a57-9d35-1e0d1f7f3a11", ["customer"]), "Idempotency-Key": "k1",
               "Content-Type": "application/json"}
    response = client.post("/api/v1/notes", data=payload, headers=headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    if status == 422:
        assert response.json["errors"] and {"field", "message"} <= set(response.json["errors"][0])


@pytest.mark.parametrize("copies", [b"2.0", b"2e0", b"0.2e1"])
def test_a_whole_number_float_is_the_integer_it_equals(client: FlaskClient, tokens, copies: bytes) -> None:  # type: ignore[no-untyped-def]
    # JSON Schema's "integer" is any number with a zero fractional part, so the document allows 2.0.
    headers = {**tokens.headers("7a3e4f8e-4c4b-4a57-9d35-1e0d1f7f3a11", ["customer"]), "Idempotency-Key": "k2",
               "Content-Type": "application/json"}
    response = client.post("/api/v1/notes", data=b'{"text": "a", "copies": ' + copies + b"}", headers=headers)
    assert response.status_code == 201
    assert len(response.json["created"]) == 2


def test_json_log_lines_carry_the_request_id(client: FlaskClient) -> None:
    stream = io.StringIO()
    handler = log_handler("demo", "json", stream)
    logging.getLogger().addHandler(handler)
    try:
        client.get("/api/v1/notes", headers={"X-Request-ID": "log-check-1"})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line.get("request_id") == "log-check-1"]
    assert access and access[0]["path"] == "/api/v1/notes" and access[0]["status"] == 200


def test_metrics_count_requests_by_endpoint_and_status(client: FlaskClient) -> None:
    client.get("/api/v1/notes")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="/api/v1/notes",method="GET",service="demo",status="200"}' in text
    assert "http_request_duration_seconds_bucket" in text


def test_nul_characters_are_refused_before_they_reach_the_database(client: FlaskClient, tokens) -> None:  # type: ignore[no-untyped-def]
    headers = {**tokens.headers("7a3e4f8e-4c4b-4a57-9d35-1e0d1f7f3a11", ["customer"]), "Idempotency-Key": "nul"}
    response = client.post("/api/v1/notes", json={"text": "a\u0000b"}, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == [
        {"field": "text", "message": "Must not contain NUL characters."}]
    assert client.get("/api/v1/notes?page=1%00").status_code == 422
