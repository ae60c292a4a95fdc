from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Flask, Response

from storefront_common.openapi import build_spec, operation
from storefront_common.testing.fuzz import ANONYMOUS, FuzzReport, fuzz_service
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import TokenFactory


def test_every_answer_of_the_demo_service_is_documented_for_every_caller(
        app: Flask, tokens: TokenFactory, fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    def caller(sub: str, roles: list[str]) -> Callable[[str, str], dict[str, str]]:
        headers = {**tokens.headers(sub, roles), "Idempotency-Key": "fuzz"}
        return lambda method, path: headers

    callers = {"anonymous": ANONYMOUS, "customer": caller(str(uuid.uuid4()), ["customer"]),
               "service": caller("svc:orders", ["service"])}
    with serve_wsgi(app) as base_url:
        report = fuzz_service(base_url, callers)
    fuzz_note("demo", report)
    report.assert_documented(3)


def _undocumented_answers() -> Flask:
    """A service whose answers stray from its document: a status, a content type and a body it does not list."""
    app = Flask("strays")
    answer = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}

    @app.get("/status")
    @operation("Documents 200, answers 418", response=answer)
    def status() -> Response:
        return Response("{}", status=418, mimetype="application/json")

    @app.get("/content-type")
    @operation("Documents JSON, answers HTML", response=answer)
    def content_type() -> Response:
        return Response("<p>hello</p>", mimetype="text/html")

    @app.get("/body")
    @operation("Documents a string id, answers a number", response=answer)
    def body() -> dict[str, int]:
        return {"id": 1}

    app.add_url_rule("/openapi.json", view_func=lambda: build_spec(app, "Strays"))
    return app


def test_the_fuzz_reports_every_answer_its_document_does_not_describe() -> None:
    with serve_wsgi(_undocumented_answers()) as base_url:
        report = fuzz_service(base_url, {"anonymous": ANONYMOUS}, max_examples=1)
    failed = "\n".join(report.failures)
    assert "GET /status -> 418" in failed and "Undocumented status code" in failed
    assert "GET /content-type -> 200" in failed and "Undocumented Content-Type" in failed
    assert "GET /body -> 200" in failed and "Response violates schema" in failed
