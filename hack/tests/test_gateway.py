"""The local gateway routes exactly the chart's table (tests/k8s checks it against the contract), over
real HTTP to real backends."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from unittest import mock

import pytest
import requests
from flask import Flask, jsonify, request

from storefront_common.testing.servers import free_port, serve_wsgi
from storefront_dev.runner.gateway import create_gateway, format_pairs
from storefront_dev.runner.routes import PUBLIC_ROUTES, SERVICES


def _echo_backend(name: str) -> Flask:
    app = Flask(name)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "DELETE"])
    def echo(path: str):  # type: ignore[no-untyped-def]
        response = jsonify(backend=name, path=request.path, query=request.query_string.decode(),
                           body=request.get_data(as_text=True), request_id=request.headers.get("X-Request-ID"))
        response.headers["X-Backend"] = name
        return response, 201 if request.method == "POST" else 200

    return app


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    with ExitStack() as stack:
        backends = {name: stack.enter_context(serve_wsgi(_echo_backend(name))) for name in (*SERVICES, "paystack")}
        backends["payments"] = f"http://127.0.0.1:{free_port()}"  # nothing listens: a service that is down
        # Configured as the runner configures it.
        with mock.patch.dict("os.environ", {"GATEWAY_BACKENDS": format_pairs(backends.items()),
                                            "GATEWAY_ROUTES": format_pairs(PUBLIC_ROUTES)}):
            gateway = create_gateway()
        yield stack.enter_context(serve_wsgi(gateway))


@pytest.mark.parametrize("prefix, service", [route for route in PUBLIC_ROUTES if route[1] != "payments"])
def test_each_public_prefix_reaches_its_service(gateway_url: str, prefix: str, service: str) -> None:
    response = requests.get(f"{gateway_url}{prefix}/x?page=2", headers={"X-Request-ID": "gw-1"}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"backend": service, "path": f"{prefix}/x", "query": "page=2", "body": "",
                               "request_id": "gw-1"}
    assert response.headers["X-Backend"] == service


def test_bodies_methods_and_statuses_pass_through(gateway_url: str) -> None:
    response = requests.post(f"{gateway_url}/api/v1/orders", data=b'{"a": 1}', timeout=5,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 201 and response.json()["body"] == '{"a": 1}'


@pytest.mark.parametrize("path", ["/internal/reservations", "/api/v1/cartoon", "/api/v2/products", "/"])
def test_unrouted_paths_are_404_problems(gateway_url: str, path: str) -> None:
    response = requests.get(gateway_url + path, timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_simulator_is_mounted_under_its_prefix(gateway_url: str) -> None:
    response = requests.get(f"{gateway_url}/_paystack/checkout/abc", timeout=5)
    assert response.json()["backend"] == "paystack" and response.json()["path"] == "/checkout/abc"


def test_a_service_that_is_down_is_a_503_problem(gateway_url: str) -> None:
    response = requests.get(f"{gateway_url}/api/v1/wallet", timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json()["status"] == 503
