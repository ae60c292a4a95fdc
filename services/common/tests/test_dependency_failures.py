"""A dependency's answer, told honestly: a refusal (4xx) carries its reason; an outage is 503 with Retry-After."""
from __future__ import annotations

import io
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from flask import Flask, Response, jsonify

from storefront_common.client import (DependencyRefused, DependencyUnavailable, ServiceClient, answer_failure,
                                      malformed_answer)
from storefront_common.errors import PROBLEM_MIME
from storefront_common.logging_setup import request_id_var
from storefront_common.settings import CommonSettings
from storefront_common.testing.logs import captured_log
from storefront_common.testing.servers import free_port, serve_wsgi

SETTINGS = CommonSettings(http_retries=1, http_backoff_seconds=0.01, http_read_timeout=2)
REASON = "The payment is priced in USD; this shop sells and settles in NGN only."


def dependency_app() -> Flask:
    """A downstream service answering whatever status the path names, as a problem document."""
    app = Flask("dependency")

    @app.get("/answer/<int:status>")
    def answer(status: int) -> Response:
        body = {"type": "about:blank", "title": "Refused", "status": status, "detail": REASON,
                "errors": [{"field": "currency", "message": REASON}]}
        response = jsonify(body)
        response.status_code, response.mimetype = status, PROBLEM_MIME
        return response

    @app.get("/later/<int:status>")
    def later(status: int) -> Response:
        response = answer(status)
        response.headers["Retry-After"] = "1"
        return response

    @app.get("/bare/<int:status>")
    def bare(status: int) -> tuple[str, int]:
        return "no", status

    return app


@pytest.fixture(scope="module")
def payments() -> Iterator[ServiceClient]:
    with serve_wsgi(dependency_app()) as base_url:
        yield ServiceClient("payments", base_url, SETTINGS)


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    """What the service logs in the text format, within a request whose id is req-19."""
    marker = request_id_var.set("req-19")
    try:
        with captured_log("storefront.client", "orders") as stream:
            yield stream
    finally:
        request_id_var.reset(marker)


def failure_for(client: ServiceClient, path: str) -> Any:
    return answer_failure(client.name, client.get(path))


def test_a_422_refusal_reaches_the_client_as_422_with_the_dependencys_reason(payments: ServiceClient) -> None:
    refused = failure_for(payments, "/answer/422")
    assert isinstance(refused, DependencyRefused)
    response = refused.get_response()
    assert response.status_code == 422 and response.mimetype == PROBLEM_MIME
    assert "Retry-After" not in response.headers
    assert response.get_json() == {"type": "about:blank", "title": HTTPStatus(422).phrase, "status": 422,
                                   "detail": REASON, "errors": [{"field": "currency", "message": REASON}],
                                   "dependency": "payments"}


@pytest.mark.parametrize(("answered", "told"), [(402, 402), (409, 409), (400, 422), (404, 422), (410, 422)])
def test_402_and_409_keep_their_meaning_and_any_other_refusal_is_422(payments: ServiceClient, answered: int,
                                                                     told: int) -> None:
    refused = failure_for(payments, f"/answer/{answered}")
    assert isinstance(refused, DependencyRefused)
    assert (refused.code, refused.dependency_status, refused.description) == (told, answered, REASON)


def test_a_refusal_without_a_problem_document_still_says_who_refused(payments: ServiceClient) -> None:
    refused = failure_for(payments, "/bare/422")
    assert refused.code == 422 and refused.errors is None
    assert refused.description == "The payments service refused the request (HTTP 422)."


@pytest.mark.parametrize("answered", [401, 403, 408, 429])
def test_our_credentials_refused_or_a_busy_dependency_is_503_with_retry_after(payments: ServiceClient,
                                                                             answered: int) -> None:
    failure = failure_for(payments, f"/answer/{answered}")
    assert isinstance(failure, DependencyUnavailable)
    response = failure.get_response()
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.get_json()["detail"] == "The payments service is unavailable. Try again shortly."


@pytest.mark.parametrize("answered", [409, 422])
def test_a_refusal_that_says_retry_after_is_503_not_a_definite_no(payments: ServiceClient, answered: int) -> None:
    """e.g. payments' 409 while the order's payment is still being set up by an earlier attempt: the
    client's retry with the same key will finish the order, so it must not be told "no"."""
    failure = failure_for(payments, f"/later/{answered}")
    assert isinstance(failure, DependencyUnavailable)
    assert failure.get_response().status_code == 503


def test_a_5xx_answer_or_no_answer_is_503_and_a_garbled_success_too(payments: ServiceClient) -> None:
    with pytest.raises(DependencyUnavailable) as failed:
        payments.get("/answer/500")
    assert failed.value.code == 503 and failed.value.extra_headers["Retry-After"]
    with pytest.raises(DependencyUnavailable):
        ServiceClient("payments", f"http://127.0.0.1:{free_port()}", SETTINGS).get("/answer/200")
    assert malformed_answer("payments", payments.get("/bare/200")).code == 503


def test_each_failure_is_logged_with_the_dependency_the_status_and_the_request_id(
        payments: ServiceClient, log_lines: io.StringIO) -> None:
    failure_for(payments, "/answer/422")
    failure_for(payments, "/answer/401")
    with pytest.raises(DependencyUnavailable):
        payments.get("/answer/503")
    with pytest.raises(DependencyUnavailable):
        ServiceClient("products", f"http://127.0.0.1:{free_port()}", SETTINGS).get("/anything")
    lines = [line.removeprefix("WARNING ").removeprefix("ERROR   ") for line in log_lines.getvalue().splitlines()]
    prefix = "[req-19] storefront.client: dependency"
    assert lines[0] == f"{prefix} payments refused the request: HTTP 422: {REASON}"
    assert lines[1] == f"{prefix} payments refused our service credentials: HTTP 401"
    # 503 is retried once (HTTP_RETRIES=1): the answer that is given up on is the one logged.
    assert lines[2] == f"{prefix} payments failed: HTTP 503"
    assert lines[3].startswith(f"{prefix} products unreachable: ConnectionRefusedError: ")
