"""A small reverse proxy: the contract's routing table on one port, the simulator under /_paystack.

Run under gunicorn by the runner (`storefront_dev.runner.gateway:create_gateway()`). Backends come from GATEWAY_BACKENDS: `users=http://127.0.0.1:9001,...`
plus `paystack=...` for the simulator.

Plain WSGI over urllib3: a proxy forwards bytes, and request/response objects and `requests`' layers
cost more CPU than the forwarding itself (two of these hops sit in every benchmarked checkout).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError

from .routes import SIMULATOR_PREFIX, route_for

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def parse_backends(spec: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in spec.split(",") if item)


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _problem(start_response: StartResponse, status: int, title: str, detail: str) -> list[bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    headers = [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))]
    if status == 503:
        headers.append(("Retry-After", "5"))
    start_response(_status_line(status), headers)
    return [body]


def _forwarded_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
               if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in HOP_BY_HOP}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    headers["X-Forwarded-For"] = environ.get("REMOTE_ADDR", "")
    headers["X-Forwarded-Host"] = environ.get("HTTP_HOST", "")
    headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
    return headers


def _body(environ: dict[str, Any]) -> bytes | None:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length > 0 else None


class Gateway:
    def __init__(self, backends: dict[str, str], timeout: float = 30.0) -> None:
        self.backends = backends
        self.http = urllib3.PoolManager(maxsize=16, block=False, retries=False,
                                        timeout=urllib3.Timeout(connect=5.0, read=timeout))

    def target(self, path: str) -> str | None:
        if path == SIMULATOR_PREFIX or path.startswith(SIMULATOR_PREFIX + "/"):
            base = self.backends.get("paystack")
            return base + (path[len(SIMULATOR_PREFIX):] or "/") if base else None
        service = route_for(path)
        return self.backends[service] + path if service and service in self.backends else None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # PEP 3333 hands the path over as latin-1 decoded bytes; the backend gets the same bytes.
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        url = self.target(path)
        if url is None:
            return _problem(start_response, 404, "Not Found", "No service serves this path.")
        if environ.get("QUERY_STRING"):
            url += "?" + environ["QUERY_STRING"]
        try:
            upstream = self.http.urlopen(environ["REQUEST_METHOD"], url, body=_body(environ),
                                         headers=_forwarded_headers(environ), redirect=False,
                                         decode_content=False)
        except HTTPError:
            return _problem(start_response, 503, "Service Unavailable",
                            "The service behind this path is not reachable.")
        # The body goes out as it came (still encoded), so Content-Encoding goes with it.
        headers = [(name, value) for name, value in upstream.headers.items() if name.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(upstream.data))))
        start_response(_status_line(upstream.status), headers)
        return [upstream.data]


def create_gateway() -> Gateway:
    return Gateway(parse_backends(os.environ.get("GATEWAY_BACKENDS", "")))
