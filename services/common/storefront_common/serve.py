"""The HTTP server of every service image: `python -m storefront_common.serve storefront_<name>.wsgi:app`.

Granian: HTTP/1.1 parsed in Rust, the WSGI app run on a pool of Python threads per worker process. It
replaced gunicorn's gthread worker, whose Python request handling cost about 0.3 ms of CPU per request
(bench/checkout/README.md has the measurement); a checkout crosses ten HTTP servers.

Settings come from the environment, as the chart and the local runner set them:
HOST, PORT, WEB_CONCURRENCY (worker processes), WEB_THREADS (threads per worker), WEB_RELOAD (restart on
code changes, for the dev image), LOG_LEVEL, LOG_FORMAT and SERVICE_NAME (for the log lines).
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

from granian.constants import HTTPModes, Interfaces
from granian.log import LogLevels
from granian.server import Server

from .logging_setup import configure_logging
from .settings import DEFAULT_WEB_THREADS

# Seconds a stopping worker gets to finish its requests (Kubernetes waits 30 before SIGKILL).
GRACEFUL_STOP_SECONDS = 20
# Granian's own lines (start, stop, worker exits) go through the root logger, so they are JSON too.
SERVER_LOGGING: dict[str, Any] = {"loggers": {"_granian": {"handlers": [], "propagate": True}}}


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def build_server(app_spec: str, env: Mapping[str, str], factory: bool = False) -> Server:
    return Server(
        app_spec,
        address=env.get("HOST", "0.0.0.0"),
        port=int(env.get("PORT", "8080")),
        interface=Interfaces.WSGI,
        workers=int(env.get("WEB_CONCURRENCY", "1")),
        blocking_threads=int(env.get("WEB_THREADS", DEFAULT_WEB_THREADS)),
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels(env.get("LOG_LEVEL", "info").lower()),
        log_dictconfig=SERVER_LOGGING,
        workers_kill_timeout=GRACEFUL_STOP_SECONDS,
        factory=factory,
        reload=_flag(env.get("WEB_RELOAD", "")),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", help="module:attribute of the WSGI app, e.g. storefront_orders.wsgi:app")
    parser.add_argument("--factory", action="store_true", help="the attribute is a function returning the app")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("SERVICE_NAME", "server"), os.environ.get("LOG_LEVEL", "INFO"),
                      os.environ.get("LOG_FORMAT", "json"))
    build_server(args.app, os.environ, args.factory).serve()


if __name__ == "__main__":
    main()
