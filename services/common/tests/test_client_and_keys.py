from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask, jsonify, request

from storefront_common.auth import RemoteJwks
from storefront_common.client import DependencyUnavailable, KeepAliveConnections, ServiceClient, ServiceTokenProvider
from storefront_common.logging_setup import request_id_var
from storefront_common.settings import CommonSettings
from storefront_common.testing.servers import free_port, serve_wsgi
from storefront_common.testing.tokens import SigningKey, jwks_app

SETTINGS = CommonSettings(http_retries=2, http_backoff_seconds=0.01, http_read_timeout=2)


class Flaky:
    """A downstream service that fails a set number of times before answering."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.hits: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.app = Flask("flaky")
        self.app.add_url_rule("/thing", "thing", self.handle, methods=["GET", "POST"])
        self.app.add_url_rule("/internal/auth/token", "token", self.token, methods=["POST"])
        self.tokens_issued = 0

    def handle(self) -> Any:
        with self.lock:
            self.hits.append({"method": request.method, "request_id": request.headers.get("X-Request-ID"),
                              "auth": request.headers.get("Authorization")})
            failing = len(self.hits) <= self.failures
        return (jsonify(error=True), 503) if failing else jsonify(ok=True)

    def token(self) -> Any:
        self.tokens_issued += 1
        assert request.json == {"grant_type": "client_credentials", "client_id": "orders",
                                "client_secret": "s3cret"}
        return jsonify(access_token=f"svc-token-{self.tokens_issued}", token_type="Bearer", expires_in=900)


@pytest.fixture()
def flaky() -> Iterator[tuple[Flaky, str]]:
    service = Flaky(failures=2)
    with serve_wsgi(service.app) as base_url:
        yield service, base_url


def test_get_is_retried_until_it_succeeds(flaky: tuple[Flaky, str]) -> None:
    service, base_url = flaky
    assert ServiceClient("flaky", base_url, SETTINGS).get("/thing").json() == {"ok": True}
    assert len(service.hits) == 3


def test_post_is_sent_once_unless_marked_idempotent(flaky: tuple[Flaky, str]) -> None:
    service, base_url = flaky
    client = ServiceClient("flaky", base_url, SETTINGS)
    with pytest.raises(DependencyUnavailable) as raised:
        client.post("/thing", json={})
    assert raised.value.code == 503 and raised.value.extra_headers["Retry-After"]
    assert len(service.hits) == 1
    assert client.post("/thing", json={}, idempotent=True).status_code == 200


def test_request_id_and_cached_service_token_are_sent(flaky: tuple[Flaky, str]) -> None:
    service, base_url = flaky
    service.failures = 0
    tokens = ServiceTokenProvider(base_url, "orders", "s3cret")
    client = ServiceClient("flaky", base_url, SETTINGS, tokens)
    marker = request_id_var.set("req-42")
    try:
        client.get("/thing")
        client.get("/thing")
    finally:
        request_id_var.reset(marker)
    assert [hit["request_id"] for hit in service.hits] == ["req-42", "req-42"]
    assert {hit["auth"] for hit in service.hits} == {"Bearer svc-token-1"}
    assert service.tokens_issued == 1


def test_unreachable_service_is_503() -> None:
    client = ServiceClient("ghost", f"http://127.0.0.1:{free_port()}", SETTINGS)
    with pytest.raises(DependencyUnavailable):
        client.get("/thing")


def test_jwks_is_refetched_once_for_a_new_kid() -> None:
    old, new = SigningKey(), SigningKey()
    published = [old]
    app = jwks_app(published)
    fetches = []
    app.before_request(lambda: fetches.append(1) and None)
    with serve_wsgi(app) as base_url:
        keys = RemoteJwks(f"{base_url}/.well-known/jwks.json", min_refetch_seconds=0)
        assert keys.key_for(old.kid) is not None
        published.append(new)
        assert keys.key_for(new.kid) is not None
        assert keys.key_for("never-published") is None
    assert len(fetches) == 3


class _ClosesAfterEachAnswer(BaseHTTPRequestHandler):
    """Answers keep-alive style, then hangs up, as a server does when its keep-alive timeout passes."""

    protocol_version = "HTTP/1.1"
    received: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(self.path)
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


def test_a_kept_connection_the_server_closed_is_replaced_and_nothing_is_sent_twice() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClosesAfterEachAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = ServiceClient("closer", f"http://127.0.0.1:{server.server_port}", SETTINGS)
        assert client.post("/one", json={}).status_code == 201
        time.sleep(0.05)  # the server's hang-up reaches the client's socket
        assert client.post("/two", json={}).status_code == 201
    finally:
        server.shutdown()
    assert _ClosesAfterEachAnswer.received == ["/one", "/two"]


@pytest.mark.parametrize("path, header", [("/thing\r\nX-Injected: 1", "ok"), ("/thing/caf\u00e9", "ok"),
                                          ("/thing", "bad\r\nX-Injected: 1")])
def test_a_request_http_client_refuses_leaves_no_broken_connection_behind(flaky: tuple[Flaky, str], path: str,
                                                                         header: str) -> None:
    service, base_url = flaky
    service.failures = 0
    connections = KeepAliveConnections(base_url, connect_timeout=2, read_timeout=5)
    assert connections.exchange("GET", "/thing", None, {})[0] == 200
    with pytest.raises((ValueError, http.client.HTTPException)):  # InvalidURL, or UnicodeEncodeError
        connections.exchange("GET", path, None, {"X-Odd": header})
    assert [connections.exchange("GET", "/thing", None, {})[0] for _ in range(3)] == [200] * 3
