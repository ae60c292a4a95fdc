"""Request ids, access logs and Prometheus metrics for every request."""
from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from .logging_setup import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("storefront.access")

REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "method", "endpoint", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def current_request_id() -> str | None:
    return request_id_var.get()


def _incoming_request_id() -> str:
    # An untrusted id is replaced rather than echoed, so logs cannot be forged through it.
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    return candidate if _VALID_REQUEST_ID.match(candidate) else uuid.uuid4().hex


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _incoming_request_id()
    g.request_id_token = request_id_var.set(g.request_id)


def _finish_request(response: Response, service: str) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    labels = (service, request.method, endpoint, str(response.status_code))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(elapsed)
    if endpoint not in ("/healthz", "/readyz", "/metrics"):
        access_log.info(
            "request",
            extra={"method": request.method, "path": request.path, "status": response.status_code,
                   "duration_ms": round(elapsed * 1000, 2)},
        )
    return response


def _clear_request_id(_: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # With several server workers each writes its own files; collect them all.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def init_observability(app: Flask, service: str) -> None:
    app.before_request(_start_request)
    app.after_request(lambda response: _finish_request(response, service))
    app.teardown_request(_clear_request_id)
