"""The services' HTTP server (`python -m storefront_common.serve`), run as the images and the runner run it."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from storefront_common.settings import MAX_BODY_BYTES
from storefront_common.testing.servers import free_port

APP = '''
import time
from flask import Flask, request
from storefront_common.errors import register_error_handlers
from storefront_common.settings import MAX_BODY_BYTES
from storefront_common.validation import request_json

def create_app():
    app = Flask("probe")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    register_error_handlers(app)

    @app.post("/json")
    def json_body():
        return {"got": request_json()}

    @app.post("/echo")
    def echo():
        return {"got": request.get_json(), "path": request.path}, 201

    @app.get("/slow")
    def slow():
        time.sleep(1.5)
        return {"done": True}

    return app

app = create_app()
'''


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            requests.post(url + "/echo", json={}, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    (tmp_path / "probe_app.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HOST": "127.0.0.1", "PORT": str(port),
           "WEB_THREADS": "2", "SERVICE_NAME": "probe", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    # Its own process group: the server forks its workers, and none may outlive the test.
    process = subprocess.Popen([sys.executable, "-m", "storefront_common.serve", "probe_app:app"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_it_serves_the_app_over_keep_alive_http(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = server
    with requests.Session() as session:
        answers = [session.post(url + "/echo", json={"n": n}, timeout=5) for n in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.json() for a in answers] == [{"got": {"n": n}, "path": "/echo"} for n in range(3)]


def test_sigterm_lets_the_request_in_flight_finish(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, process = server
    answer: dict[str, requests.Response] = {}
    caller = threading.Thread(target=lambda: answer.update(slow=requests.get(url + "/slow", timeout=10)))
    caller.start()
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    caller.join(timeout=15)
    assert answer["slow"].status_code == 200 and answer["slow"].json() == {"done": True}
    assert process.wait(timeout=25) == 0
    with pytest.raises(requests.ConnectionError):
        requests.post(url + "/echo", json={}, timeout=2)


def test_the_server_logs_json_lines_under_the_service_name(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    _, process = server
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=25)
    assert process.stdout is not None
    lines = [json.loads(line) for line in process.stdout.read().decode().splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    assert {line["service"] for line in lines} == {"probe"}
    assert any("Starting granian" in line["message"] for line in lines)


def test_a_body_over_the_limit_is_a_413_problem_under_the_server(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = server
    body = b'{"a": "' + b"a" * MAX_BODY_BYTES + b'"}'
    with requests.Session() as session:
        for sent in (body, iter([body])):  # with Content-Length, and chunked
            answer = session.post(url + "/json", data=sent, headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 413, answer.text
            assert answer.headers["Content-Type"] == "application/problem+json"
        deep = session.post(url + "/json", data=b"[" * 50_000, headers={"Content-Type": "application/json"}, timeout=10)
    assert deep.status_code == 400 and deep.headers["Content-Type"] == "application/problem+json"
    assert requests.post(url + "/json", json={"a": 1}, timeout=5).json() == {"got": {"a": 1}}
