"""Child processes with prefixed output, started in their own process group and stopped cleanly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import requests


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._relay_output, daemon=True).start()

    def _relay_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            sys.stdout.write(f"{self.name:>9} | {line.decode(errors='replace')}")
            sys.stdout.flush()

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited:
                raise RuntimeError(f"{self.name} exited during start-up (code {self.process.returncode})")
            try:
                if self.health_url and requests.get(self.health_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready within {timeout:.0f} s")

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def stop_all(children: list[Child], timeout: float = 15.0) -> None:
    for child in reversed(children):
        child.terminate()
    deadline = time.monotonic() + timeout
    for child in reversed(children):
        child.wait_or_kill(max(deadline - time.monotonic(), 0.1))
