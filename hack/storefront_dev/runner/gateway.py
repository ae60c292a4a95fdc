"""A small reverse proxy: the contract's routing table on one port, the simulator under /_paystack.

Run under gunicorn by the runner (`storefront_dev.runner.gateway:create_gateway()`). Backends come from GATEWAY_BACKENDS: `users=http://127.0.0.1:9001,...`
plus `paystack=...` for the simulator.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from .routes import SIMULATOR_PREFIX, route_for

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
_local = threading.local()


def _session() -> requests.Session:
    # One session per thread: connection reuse without sharing a pool across threads.
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def parse_backends(spec: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in spec.split(",") if item)


class Gateway:
    def __init__(self, backends: dict[str, str], timeout: float = 30.0) -> None:
        self.backends = backends
        self.timeout = timeout

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def target(self, path: str) -> str | None:
        if path == SIMULATOR_PREFIX or path.startswith(SIMULATOR_PREFIX + "/"):
            base = self.backends.get("paystack")
            return base + (path[len(SIMULATOR_PREFIX):] or "/") if base else None
        service = route_for(path)
        return self.backends[service] + path if service and service in self.backends else None

    def dispatch(self, request: Request) -> Response:
        if request.path == "/healthz":
            return Response('{"status": "ok"}', mimetype="application/json")
        url = self.target(request.path)
        if url is None:
            return _problem(404, "Not Found", "No service serves this path.")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote_addr or ""
        headers["X-Forwarded-Host"] = request.host
        headers["X-Forwarded-Proto"] = request.scheme
        try:
            upstream = _session().request(request.method, url, params=request.query_string or None,
                                          data=request.get_data(), headers=headers, timeout=self.timeout,
                                          allow_redirects=False)
        except requests.RequestException:
            return _problem(503, "Service Unavailable", "The service behind this path is not reachable.")
        response = Response(upstream.content, status=upstream.status_code)
        # The upstream's headers replace the defaults (Content-Type above all), never add to them.
        response.headers.clear()
        for name, value in upstream.raw.headers.items():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-encoding":
                response.headers.add(name, value)
        return response


def create_gateway() -> Gateway:
    return Gateway(parse_backends(os.environ.get("GATEWAY_BACKENDS", "")))

