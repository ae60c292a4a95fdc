"""The node's process supervisor, run inside the cluster's network namespace (as systemd runs a
node's units): it starts each component in order and waits until it is ready, restarts any that
exits (so `restart` is a SIGTERM to one component), and on SIGTERM removes every pod through the
CRI before it stops the components in reverse order."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from .components import Component, components
from .layout import Layout

READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Supervisor:
    def __init__(self, paths: Layout, bin_dir: Path, image_archives: list[Path]) -> None:
        self.paths = paths
        self.bin_dir = bin_dir
        self.image_archives = image_archives
        self.components = components(paths, bin_dir)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self.restarts: dict[str, int] = {}
        self.stopping = False
        self.ready = False

    # -- state file ------------------------------------------------------------------------------

    def write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "ready": self.ready,
            "components": {name: process.pid for name, process in self.processes.items()},
            "restarts": self.restarts,
        }
        temporary = self.paths.supervisor_state.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n")
        temporary.replace(self.paths.supervisor_state)

    # -- processes ---------------------------------------------------------------------------------

    def spawn(self, component: Component) -> None:
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        with open(self.paths.logs / f"{component.name}.log", "ab") as log:
            self.processes[component.name] = subprocess.Popen(
                component.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **component.env}, start_new_session=True, preexec_fn=die_with_parent,
            )
        self.started_at[component.name] = time.monotonic()
        self.write_state()

    def wait_ready(self, component: Component) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not component.ready():
            process = self.processes[component.name]
            if process.poll() is not None:
                raise RuntimeError(f"{component.name} exited with {process.returncode}; see {self.paths.logs}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{component.name} not ready after {READY_TIMEOUT_S:.0f}s; see {self.paths.logs}")
            time.sleep(0.2)
        print(f"supervisor: {component.name} ready", flush=True)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    # -- node steps --------------------------------------------------------------------------------

    def crictl(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin_dir / "crictl"), f"--runtime-endpoint=unix://{self.paths.containerd_socket}",
                               "--timeout=60s", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout)

    def remove_pods(self) -> None:
        """Every pod sandbox goes through the CRI: containers stopped, networks torn down, mounts gone."""
        self.crictl("stopp", *self.crictl("pods", "-q").stdout.split())
        self.crictl("rmp", "--all", "--force")

    def import_images(self) -> None:
        for archive in self.image_archives:
            result = subprocess.run(["ctr", f"--address={self.paths.containerd_socket}", "--namespace=k8s.io",
                                     "images", "import", str(archive)],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"importing {archive} failed: {result.stdout[-2000:]}")

    def start(self) -> None:
        for component in self.components:
            if self.stopping:
                return
            self.spawn(component)
            self.wait_ready(component)
            if component.name == "containerd":
                self.remove_pods()  # pods a crashed cluster left behind
                self.import_images()
        self.ready = True
        self.write_state()
        print("supervisor: node ready", flush=True)

    def keep_running(self) -> None:
        while not self.stopping:
            for component in self.components:
                process = self.processes.get(component.name)
                if process is None or process.poll() is None or self.stopping:
                    continue
                # Back off when a component keeps dying at start.
                uptime = time.monotonic() - self.started_at[component.name]
                if uptime < 10:
                    time.sleep(min(10.0, 2.0 ** self.restarts.get(component.name, 0)))
                self.restarts[component.name] = self.restarts.get(component.name, 0) + 1
                print(f"supervisor: {component.name} exited with {process.returncode}; restarting", flush=True)
                self.spawn(component)
            time.sleep(0.3)

    def shutdown(self) -> None:
        self.ready = False
        started = time.monotonic()
        self.stop("kubelet")  # first, or it would restart the pods being removed
        if "containerd" in self.processes:
            self.remove_pods()
        for component in reversed(self.components):
            self.stop(component.name)
        self.paths.supervisor_state.unlink(missing_ok=True)
        print(f"supervisor: stopped in {time.monotonic() - started:.1f}s", flush=True)


def serve(paths: Layout, bin_dir: Path, image_archives: list[Path]) -> int:
    supervisor = Supervisor(paths, bin_dir, image_archives)

    def request_stop(signum: int, frame: object) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        supervisor.start()
        supervisor.keep_running()
    except RuntimeError as err:
        print(f"supervisor: {err}", flush=True)
        return 1
    finally:
        supervisor.shutdown()
    return 0
