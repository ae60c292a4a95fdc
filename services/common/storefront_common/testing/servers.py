"""Real HTTP servers on 127.0.0.1 for tests, on a free port: a WSGI app in a thread, or under the services' server."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests
from werkzeug.serving import make_server


class HttpClient:
    """A suite's `client` where its service is reached over real HTTP: paths relative to the base URL, which may
    be a callable (a server the suite restarts elsewhere). With a `session`, connections are kept alive."""

    def __init__(self, base_url: str | Callable[[], str], session: requests.Session | None = None,
                 timeout: float = 30.0) -> None:
        self._base_url = base_url
        self.session = session
        self.timeout = timeout

    @property
    def base_url(self) -> str:
        return self._base_url if isinstance(self._base_url, str) else self._base_url()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        send = self.session.request if self.session is not None else requests.request
        return send(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_wsgi(app: Any, port: int = 0) -> Iterator[str]:
    """Serve `app` threaded until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def serve_process(app_spec: str, env: Mapping[str, str], *, factory: bool = False,
                  ready_path: str = "/healthz") -> Iterator[str]:
    """`python -m storefront_common.serve app_spec`, as the images and the runner run it, on a free port until
    the block ends; `env` is added to this process's environment. Yields its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "storefront_common.serve", app_spec, *(["--factory"] if factory else [])]
    # Its own process group: the server forks its workers, and none may outlive the block.
    process = subprocess.Popen(command, env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url + ready_path, process)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")
