"""`flask migrate` waits for a database that is still starting instead of failing into a Job's backoff."""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.exc import OperationalError

from storefront_common.migrations import wait_for_database
from storefront_common.testing.servers import free_port


def _relay(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            end.close()


def listen_later(port: int, delay: float, backend: tuple[str, int]) -> threading.Thread:
    """After `delay` seconds, accept one connection on `port` and relay it to the real server."""
    def serve() -> None:
        time.sleep(delay)
        with socket.create_server(("127.0.0.1", port)) as listener:
            client, _ = listener.accept()
            upstream = socket.create_connection(backend)
            threading.Thread(target=_relay, args=(client, upstream), daemon=True).start()
            _relay(upstream, client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{port}"))


def test_waits_until_the_server_accepts_connections(postgres_admin_url: str) -> None:
    parts = urlsplit(postgres_admin_url)
    port = free_port()
    listen_later(port, 1.0, (parts.hostname or "127.0.0.1", parts.port or 5432))
    started = time.monotonic()
    wait_for_database(with_port(postgres_admin_url, port), timeout=20)
    assert 0.9 < time.monotonic() - started < 10


def test_gives_up_after_its_timeout(postgres_admin_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(OperationalError):
        wait_for_database(with_port(postgres_admin_url, free_port()), timeout=1.0)
    assert time.monotonic() - started < 5
