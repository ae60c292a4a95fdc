"""A small reverse proxy: the contract's routing table on one port, the simulator under /_paystack, the
merged public OpenAPI document at /api/openapi.json and Swagger UI over it at /api/docs (api_docs.py).

Served by the runner with `python -m storefront_common.serve storefront_dev.runner.gateway:create_gateway --factory`. Backends come from GATEWAY_BACKENDS: `users=http://127.0.0.1:9001,...`
plus `paystack=...` for the simulator; the routing table from GATEWAY_ROUTES: `/api/v1/auth=users,...`
(the runner passes runner.routes.PUBLIC_ROUTES, the chart's; so the gateway does not import the operator package).

Plain WSGI on storefront_common's keep-alive http.client connections: a proxy forwards bytes, and
request/response objects and HTTP-library layers cost more CPU than the forwarding itself (two of these
hops sit in every benchmarked checkout).
"""
from __future__ import annotations

import http.client
import json
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from storefront_common.client import KeepAliveConnections
from storefront_common.settings import MAX_BODY_BYTES

from . import public_openapi
from .api_docs import DOCUMENT_PATH, ApiDocs

SIMULATOR_PREFIX = "/_paystack"
PUBLIC_DOCUMENT = DOCUMENT_PATH
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Routes = tuple[tuple[str, str], ...]  # (path prefix, backend name)
# What stays as it is when the decoded path and the query go out again: RFC 3986's path and query characters.
PATH_SAFE = "/!$&'()*+,;=:@-._~"
QUERY_SAFE = PATH_SAFE + "?%"


class BodyTooLarge(Exception):
    pass


def parse_pairs(spec: str) -> dict[str, str]:
    """`a=x,b=y` -> {a: x, b: y} (GATEWAY_BACKENDS, GATEWAY_ROUTES)."""
    return dict(item.split("=", 1) for item in spec.split(",") if item)


def format_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{key}={value}" for key, value in pairs)


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


def _body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, read only when it is at most `limit` bytes: BodyTooLarge is raised before reading one
    whose Content-Length is over it, and after reading `limit` + 1 bytes of a chunked one. (The server closes
    the client's connection when the body is left unread, so nothing of it is taken for a next request.)"""
    declared = environ.get("CONTENT_LENGTH")
    if declared:
        length = int(declared)  # the server has checked it is a number
        if length > limit:
            raise BodyTooLarge()
        return environ["wsgi.input"].read(length) if length > 0 else None
    if not environ.get("wsgi.input_terminated"):
        return None
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge()
    return body or None


def _forwarded_target(path: str, query: str) -> str:
    """Path and query as bytes on the wire again: PEP 3333 hands both over as latin-1 text, the path decoded."""
    target = quote(path, safe=PATH_SAFE, encoding="latin-1")
    return f"{target}?{quote(query, safe=QUERY_SAFE, encoding='latin-1')}" if query else target


class Gateway:
    def __init__(self, backends: dict[str, str], routes: Routes, timeout: float = 30.0,
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        # Longest prefix first, as an Ingress matches: /api/v1/... wins over the pages' catch-all `/`.
        self.routes = tuple(sorted(routes, key=lambda route: -len(route[0])))
        self.max_body_bytes = max_body_bytes
        self._public_document: bytes | None = None
        self.api_docs = ApiDocs()
        self.backends = {name: KeepAliveConnections(url, connect_timeout=5.0, read_timeout=timeout)
                         for name, url in backends.items()}

    def target(self, path: str) -> tuple[KeepAliveConnections, str] | None:
        """The backend that serves `path` and the path it gets there."""
        if path == SIMULATOR_PREFIX or path.startswith(SIMULATOR_PREFIX + "/"):
            name, path = "paystack", path[len(SIMULATOR_PREFIX):] or "/"
        else:
            name = self.route_for(path) or ""
        return (self.backends[name], path) if name in self.backends else None

    def route_for(self, path: str) -> str | None:
        """The backend that serves `path`, or None: the longest prefix that matches whole path segments
        (`/` matches every path)."""
        for prefix, name in self.routes:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return name
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # Routed on the decoded path; _forwarded_target encodes it again, so the backend gets the bytes sent.
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        if path == PUBLIC_DOCUMENT:
            return self._serve_public_document(start_response)
        if self.api_docs.serves(path):
            return self.api_docs(path, start_response) or _problem(
                start_response, 404, "Not Found", "The API docs have no such file.")
        found = self.target(path)
        if found is None:
            return _problem(start_response, 404, "Not Found", "No service serves this path.")
        backend, path = found
        try:
            body = _body(environ, self.max_body_bytes)
        except BodyTooLarge:
            return _problem(start_response, 413, "Content Too Large",
                            f"The request body must be at most {self.max_body_bytes} bytes.")
        try:
            status, content, upstream_headers = backend.exchange(
                environ["REQUEST_METHOD"], _forwarded_target(path, environ.get("QUERY_STRING", "")), body,
                _forwarded_headers(environ))
        except (OSError, http.client.HTTPException):
            return _problem(start_response, 503, "Service Unavailable",
                            "The service behind this path is not reachable.")
        except ValueError:  # http.client refuses a header it cannot send (a name or value it finds illegal)
            return _problem(start_response, 400, "Bad Request", "The request has a header that cannot be forwarded.")
        # The body goes out as it came (still encoded), so Content-Encoding goes with it.
        headers = [(name, value) for name, value in upstream_headers.items() if name.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(content))))
        start_response(_status_line(status), headers)
        return [content]


    def _serve_public_document(self, start_response: StartResponse) -> list[bytes]:
        """Merged on the first request that finds every service up, then kept: the services do not change."""
        if self._public_document is None:
            documents = {}
            try:
                # The services of the API: those with a route of their own, not only the pages' catch-all.
                for name in dict.fromkeys(name for prefix, name in self.routes if prefix != "/"):
                    status, content, _ = self.backends[name].exchange("GET", "/openapi.json", None, {})
                    if status != 200:
                        raise OSError(f"{name} answered {status}")
                    documents[name] = json.loads(content)
            except (OSError, http.client.HTTPException, ValueError):
                return _problem(start_response, 503, "Service Unavailable", "A service's document is not available.")
            self._public_document = json.dumps(public_openapi.merge(documents, self.route_for)).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(self._public_document)))])
        return [self._public_document]


def create_gateway() -> Gateway:
    return Gateway(parse_pairs(os.environ.get("GATEWAY_BACKENDS", "")),
                   tuple(parse_pairs(os.environ.get("GATEWAY_ROUTES", "")).items()),
                   max_body_bytes=int(os.environ.get("GATEWAY_MAX_BODY_BYTES", MAX_BODY_BYTES)))
