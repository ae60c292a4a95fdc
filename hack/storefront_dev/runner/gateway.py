"""A small reverse proxy: the contract's routing table on one port, the simulator under /_paystack.

Run under gunicorn by the runner (`storefront_dev.runner.gateway:create_gateway()`). Backends come from GATEWAY_BACKENDS: `users=http://127.0.0.1:9001,...`
plus `paystack=...` for the simulator.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError
from werkzeug.wrappers import Request, Response

from .routes import SIMULATOR_PREFIX, route_for

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
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
        # urllib3 rather than requests: a proxy forwards bytes and needs none of requests' layers.
        self.http = urllib3.PoolManager(maxsize=16, block=False, retries=False,
                                        timeout=urllib3.Timeout(connect=5.0, read=timeout))

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
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        try:
            upstream = self.http.urlopen(request.method, url, body=request.get_data() or None, headers=headers,
                                         redirect=False, decode_content=False)
        except HTTPError:
            return _problem(503, "Service Unavailable", "The service behind this path is not reachable.")
        response = Response(upstream.data, status=upstream.status)
        # The upstream's headers replace the defaults (Content-Type above all), never add to them; the
        # body goes out as it came (still encoded), so Content-Encoding goes with it.
        response.headers.clear()
        for name, value in upstream.headers.items():
            if name.lower() not in HOP_BY_HOP:
                response.headers.add(name, value)
        return response


def create_gateway() -> Gateway:
    return Gateway(parse_backends(os.environ.get("GATEWAY_BACKENDS", "")))

