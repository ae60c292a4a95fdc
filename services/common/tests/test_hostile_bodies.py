"""Bodies a property-based generator rarely makes: each is a 4xx problem and changes nothing (no key used up)."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from services.common.tests.demo_app import IdempotencyRecord, Note, db
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TokenFactory
from storefront_common.validation import MAX_JSON_DEPTH, decode_json

DEEP = 50_000


def _rows(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Note)) or 0,
                db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0)


@pytest.mark.parametrize("body, reason, status", [
    (b"[" * DEEP, "nests", 400),
    (b"[" * DEEP + b"]" * DEEP, "nests", 400),
    (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "nests", 400),
    (b'{"text": "a", "copies": ' + b"[" * DEEP + b"]" * DEEP + b"}", "nests", 400),
    (b'{"text": "a", "text": "b"}', "duplicate", 400),
    (b'{"text": "a", "copies": 1e400}', "out of range", 422),
    (b'{"text": "a", "copies": ' + b"9" * 5000 + b"}", "out of range", 422),
    (b'{"text": "a", "copies": 99999999999999999999}', "out of range", 422),
    (b'{"text": "a", "copies": NaN}', "out of range", 422),
    (b'{"text": "a", "copies": -Infinity}', "out of range", 422),
    (b'{"text": "\\ud800"}', "surrogate", 400),
    (b'{"text": "caf\xe9"}', "UTF-8", 400),
    ('{"text": "a"}'.encode("utf-16"), "UTF-8", 400),
    ('{"text": "a"}'.encode("utf-16-le"), "JSON", 400),
    (b'\xef\xbb\xbf{"text": "a"}', "JSON", 400),
])
def test_a_hostile_body_is_a_4xx_problem_fast_and_writes_nothing(app: Flask, tokens: TokenFactory, body: bytes,
                                                                  reason: str, status: int) -> None:
    headers = {**tokens.headers(str(uuid.uuid4()), ["customer"]), "Idempotency-Key": uuid.uuid4().hex,
               "Content-Type": "application/json"}
    before = _rows(app)
    with serve_wsgi(app) as base_url:
        started = time.monotonic()
        response = requests.post(f"{base_url}/api/v1/notes", data=body, headers=headers, timeout=10)
        elapsed = time.monotonic() - started
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert reason in response.text
    assert elapsed < 1
    assert _rows(app) == before


def test_nesting_up_to_the_limit_decodes_and_strings_do_not_count() -> None:
    assert decode_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    assert decode_json(b'["' + b"[{" * DEEP + b'\\"]"]') == ["[{" * DEEP + '"]']
    assert decode_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}


def test_a_body_over_the_limit_is_a_413_problem(app: Flask, tokens: TokenFactory) -> None:
    headers = {**tokens.headers(str(uuid.uuid4()), ["customer"]), "Idempotency-Key": "big",
               "Content-Type": "application/json"}
    body = b'{"text": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    before = _rows(app)
    with serve_wsgi(app) as base_url:
        response = requests.post(f"{base_url}/api/v1/notes", data=body, headers=headers, timeout=10)
        chunked = requests.post(f"{base_url}/api/v1/notes", data=iter([body]), headers=headers, timeout=10)
    for answer in (response, chunked):
        assert answer.status_code == 413, answer.text
        assert answer.headers["Content-Type"] == "application/problem+json"
    assert _rows(app) == before
