"""The local gateway routes exactly the chart's table (tests/k8s checks it against the contract), over
real HTTP to real backends."""
from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from urllib.parse import unquote, urlsplit
from unittest import mock

import pytest
import requests
from flask import Flask, jsonify, request

from storefront_common.testing.servers import free_port, serve_process, serve_wsgi
from storefront_dev.runner.gateway import create_gateway, format_pairs
from storefront_dev.runner.routes import PUBLIC_ROUTES, SERVICES

THREADS = 4
MAX_BODY = 1024 * 1024


def _echo_backend(name: str) -> Flask:
    app = Flask(name)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
    def echo(path: str):  # type: ignore[no-untyped-def]
        response = jsonify(backend=name, path=request.path, query=request.query_string.decode(),
                           body=request.get_data(as_text=True), request_id=request.headers.get("X-Request-ID"))
        response.headers["X-Backend"] = name
        return response, 201 if request.method == "POST" else 200

    app.register_error_handler(404, lambda error: echo(""))  # a path no rule takes (one with a newline)
    return app


def _gateway_environment(stack: ExitStack) -> dict[str, str]:
    """Echo backends for the gateway, configured as the runner configures it."""
    backends = {name: stack.enter_context(serve_wsgi(_echo_backend(name))) for name in (*SERVICES, "paystack")}
    backends["payments"] = f"http://127.0.0.1:{free_port()}"  # nothing listens: a service that is down
    return {"GATEWAY_BACKENDS": format_pairs(backends.items()), "GATEWAY_ROUTES": format_pairs(PUBLIC_ROUTES)}


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    with ExitStack() as stack:
        with mock.patch.dict("os.environ", _gateway_environment(stack)):
            gateway = create_gateway()
        yield stack.enter_context(serve_wsgi(gateway))


@pytest.fixture(scope="module")
def served_gateway_url() -> Iterator[str]:
    """The gateway under the services' HTTP server, as `make up` runs it: what a client's bytes meet first."""
    with ExitStack() as stack:
        yield stack.enter_context(serve_process("storefront_dev.runner.gateway:create_gateway",
                                                {**_gateway_environment(stack), "WEB_THREADS": str(THREADS),
                                                 "LOG_LEVEL": "warning"}, factory=True))


@pytest.mark.parametrize("prefix, service", [route for route in PUBLIC_ROUTES if route[1] != "payments"])
def test_each_public_prefix_reaches_its_service(gateway_url: str, prefix: str, service: str) -> None:
    path = f"{prefix.rstrip('/')}/x"
    response = requests.get(f"{gateway_url}{path}?page=2", headers={"X-Request-ID": "gw-1"}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"backend": service, "path": path, "query": "page=2", "body": "",
                               "request_id": "gw-1"}
    assert response.headers["X-Backend"] == service


def test_bodies_methods_and_statuses_pass_through(gateway_url: str) -> None:
    response = requests.post(f"{gateway_url}/api/v1/orders", data=b'{"a": 1}', timeout=5,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 201 and response.json()["body"] == '{"a": 1}'


@pytest.mark.parametrize("path", ["/internal/reservations", "/api/v1/cartoon", "/api/v2/products", "/",
                                  "/products/abc", "/static/site.css"])
def test_paths_no_api_prefix_claims_go_to_the_pages(gateway_url: str, path: str) -> None:
    """The longest prefix wins, as in an Ingress: `/` (web) takes what no API prefix does, /internal too,
    so no service's internal endpoints are reachable (web has none: it answers 404)."""
    response = requests.get(gateway_url + path, timeout=5)
    assert response.status_code == 200 and response.json()["backend"] == "web"


def test_without_a_catch_all_unrouted_paths_are_404_problems() -> None:
    api_only = tuple(route for route in PUBLIC_ROUTES if route[0] != "/")
    with ExitStack() as stack:
        environment = {**_gateway_environment(stack), "GATEWAY_ROUTES": format_pairs(api_only)}
        with mock.patch.dict("os.environ", environment):
            gateway = create_gateway()
        url = stack.enter_context(serve_wsgi(gateway))
        for path in ("/internal/reservations", "/api/v1/cartoon", "/"):
            response = requests.get(url + path, timeout=5)
            assert response.status_code == 404
            assert response.headers["Content-Type"] == "application/problem+json"


def test_simulator_is_mounted_under_its_prefix(gateway_url: str) -> None:
    response = requests.get(f"{gateway_url}/_paystack/checkout/abc", timeout=5)
    assert response.json()["backend"] == "paystack" and response.json()["path"] == "/checkout/abc"


def test_a_service_that_is_down_is_a_503_problem(gateway_url: str) -> None:
    response = requests.get(f"{gateway_url}/api/v1/wallet", timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json()["status"] == 503


def _problem(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_a_body_over_the_maximum_is_a_413_problem_and_one_at_it_is_forwarded(served_gateway_url: str) -> None:
    url = f"{served_gateway_url}/api/v1/orders"
    for body in (b"a" * (MAX_BODY + 1), b"a" * (4 * MAX_BODY)):
        _problem(requests.post(url, data=body, timeout=10), 413)
        _problem(requests.post(url, data=iter([body]), timeout=10), 413)  # chunked
    for body in (b"a" * MAX_BODY, iter([b"a" * 1000, b"b" * 1000])):
        response = requests.post(url, data=body, timeout=10)
        assert response.status_code == 201, response.text
    assert response.json()["body"] == "a" * 1000 + "b" * 1000


def test_a_declared_body_over_the_maximum_is_refused_at_once_without_reading_it(served_gateway_url: str) -> None:
    with _connect(served_gateway_url) as client:
        client.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n" + b"a" * 1000)
        started = time.monotonic()
        answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413 ") and b"application/problem+json" in answer
        assert time.monotonic() - started < 2
        # The rest of that body is not read as a next request: the connection is closed.
        with pytest.raises(OSError):
            for _ in range(100):
                client.sendall(b"a" * 65536)
            assert client.recv(100) == b""
            raise ConnectionResetError


ODD_PATHS = ["%00", "%20", "%0d%0a", "%ff", "%C3%A9", "%25", "%3F", "a%00b%0d%0aX-Injected:%201"]


@pytest.mark.parametrize("odd", ODD_PATHS)
def test_paths_that_decode_to_odd_bytes_reach_the_service_as_sent(served_gateway_url: str, odd: str) -> None:
    response = requests.get(f"{served_gateway_url}/api/v1/products/{odd}?q={odd}", timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "/api/v1/products/" + unquote(odd)
    assert response.json()["query"].lower() == f"q={odd}".lower()
    for unrouted in (f"/{odd}", f"/api/v1/products{odd}", f"/api/v1/{odd}"):  # the pages' catch-all, as sent
        response = requests.get(served_gateway_url + unrouted, timeout=5)
        assert response.status_code == 200 and response.json()["backend"] == "web"
        assert response.json()["path"] == unquote(unrouted)


def test_odd_requests_never_break_the_pooled_connections_of_the_next(served_gateway_url: str) -> None:
    """Each of the gateway's threads keeps a connection per service: every one of them takes odd requests first."""
    with ThreadPoolExecutor(THREADS * 2) as pool:
        list(pool.map(lambda path: requests.get(f"{served_gateway_url}/api/v1/products/{path}", timeout=5),
                      ODD_PATHS * THREADS * 2))
        normal = list(pool.map(lambda i: requests.get(f"{served_gateway_url}/api/v1/products/{i}", timeout=5),
                               range(THREADS * 8)))
    assert [response.status_code for response in normal] == [200] * THREADS * 8


def _connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=5)


MALFORMED = {
    "a garbage request line": b"HELLO\r\n\r\n",
    "no HTTP version": b"GET /api/v1/products\r\n\r\n",
    "an unknown HTTP version": b"GET /api/v1/products HTTP/9.9\r\nHost: x\r\n\r\n",
    "a space in the target": b"GET /api/v1/products x HTTP/1.1\r\nHost: x\r\n\r\n",
    "a control byte in the target": b"GET /api/v1/products/\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "an invalid method": b"G(T /api/v1/products HTTP/1.1\r\nHost: x\r\n\r\n",
    "an unknown method": b"BREW /api/v1/products/x HTTP/1.1\r\nHost: x\r\n\r\n",
    "a CR in a header value": b"GET /api/v1/products/x HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: 1\r\n\r\n",
    "a NUL in a header value": b"GET /api/v1/products/x HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "a space in a header name": b"GET /api/v1/products/x HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n",
    "a folded header": b"GET /api/v1/products/x HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "a 100 KB header": b"GET /api/v1/products/x HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 100_000 + b"\r\n\r\n",
    "2000 headers": b"GET /api/v1/products/x HTTP/1.1\r\nHost: x\r\n"
                    + b"".join(b"X-%d: a\r\n" % i for i in range(2000)) + b"\r\n",
    "a 100 KB target": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "a negative Content-Length": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "a non-numeric Content-Length": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "two different Content-Lengths": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                     b"Content-Length: 5\r\n\r\nabcde",
    "a Content-Length list": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 5\r\n\r\nabcde",
    "an unknown Transfer-Encoding": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
}
# Not 4xx: the server frames a body with both headers by Transfer-Encoding alone (as RFC 9112 6.3 says) and
# drops Content-Length, and it hands the app an empty body for chunks it cannot decode. Either way the service
# gets one request with an empty body, and nothing of the rest is smuggled in as a next request.
AMBIGUOUS_BODIES = {
    "Transfer-Encoding and Content-Length": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
    "a chunk size that is no number": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      b"zz\r\nabc\r\n0\r\n\r\n",
    "a chunk size beyond 64 bits": b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"ffffffffffffffffff\r\nabc\r\n",
}


def _first_line(base_url: str, raw: bytes) -> bytes:
    with _connect(base_url) as client:
        client.sendall(raw)
        return client.recv(65536).split(b"\r\n", 1)[0]


def _served_meanwhile(base_url: str, count: int = 20) -> list[int]:
    with requests.Session() as session:
        return [session.get(f"{base_url}/api/v1/products/{i}", timeout=5).status_code for i in range(count)]


@pytest.mark.parametrize("what", MALFORMED)
def test_malformed_http_is_a_4xx_and_others_keep_being_served(served_gateway_url: str, what: str) -> None:
    with ThreadPoolExecutor(2) as pool:
        normal = pool.submit(_served_meanwhile, served_gateway_url)
        status_line = _first_line(served_gateway_url, MALFORMED[what])
        assert normal.result() == [200] * 20
    assert re.fullmatch(rb"HTTP/1\.1 4\d\d .*", status_line), status_line


@pytest.mark.parametrize("what", AMBIGUOUS_BODIES)
def test_an_ambiguous_or_broken_body_forwards_nothing_of_it(served_gateway_url: str, what: str) -> None:
    with _connect(served_gateway_url) as client:
        client.sendall(AMBIGUOUS_BODIES[what])
        time.sleep(0.2)
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 ") and b'"body":""' in answer
    assert answer.count(b"HTTP/1.1") == 1, answer
    assert _served_meanwhile(served_gateway_url) == [200] * 20


STALLED_HEADERS = b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-"
STALLED_BODY = b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc"


@contextmanager
def _stalled(base_url: str, count: int, sent: bytes) -> Iterator[None]:
    """`count` clients that send `sent` and then nothing, until the block ends."""
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(_connect(base_url)).sendall(sent)
        time.sleep(0.2)
        yield


def test_clients_that_stall_their_headers_block_no_one(served_gateway_url: str) -> None:
    with _stalled(served_gateway_url, THREADS * 4, STALLED_HEADERS):
        assert _served_meanwhile(served_gateway_url) == [200] * 20


def test_fewer_clients_stalling_their_bodies_than_threads_block_no_one(served_gateway_url: str) -> None:
    with _stalled(served_gateway_url, THREADS - 1, STALLED_BODY):
        assert _served_meanwhile(served_gateway_url) == [200] * 20


@pytest.mark.xfail(strict=True, raises=requests.Timeout,
                   reason="granian has no timeout for reading a request body: a WSGI thread reading one waits until "
                          "the client sends or hangs up, so as many stalled bodies as threads stop the gateway")
def test_as_many_clients_stalling_their_bodies_as_threads_block_no_one(served_gateway_url: str) -> None:
    with _stalled(served_gateway_url, THREADS, STALLED_BODY):
        requests.get(f"{served_gateway_url}/api/v1/products/x", timeout=3)


def test_api_docs_page_and_its_files_come_from_the_gateway_under_a_strict_policy(gateway_url: str) -> None:
    page = requests.get(f"{gateway_url}/api/docs", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in page.text and "<style" not in page.text and "http" not in page.text
    for path, content_type in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                               ("docs.js", "text/javascript"), ("docs.css", "text/css")):
        assert f'"/api/docs/{path}"' in page.text
        asset = requests.get(f"{gateway_url}/api/docs/{path}", timeout=5)
        assert asset.status_code == 200 and asset.headers["Content-Type"].startswith(content_type), path
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    assert "/api/openapi.json" in requests.get(f"{gateway_url}/api/docs/docs.js", timeout=5).text
    unknown = requests.get(f"{gateway_url}/api/docs/../../etc/passwd", timeout=5)  # the client sends /etc/passwd
    assert "root:" not in unknown.text and unknown.json()["backend"] == "web"  # the pages' catch-all, no file
    missing = requests.get(f"{gateway_url}/api/docs/swagger-ui-standalone-preset.js", timeout=5)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
