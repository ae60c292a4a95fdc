"""A real Kubernetes control plane (etcd + kube-apiserver) for tests, envtest-style.

It has no node: nothing runs pods. Tests that need none use it, because it starts in about a second;
the real single-node cluster is storefront_dev.cluster.

    with ControlPlane(build_binaries()) as cp:
        subprocess.run([cp.bin_dir / "kubectl", "--kubeconfig", cp.kubeconfig_path, ...])
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

HACK_DIR = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = HACK_DIR / "cluster" / "build.sh"
LOOPBACK = "127.0.0.1"
BINARIES = ("kube-apiserver", "etcd", "kubectl", "helm")
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# Metadata level for everything: tests count write requests by verb and
# resource, and Metadata never records bodies (no secrets in the log).
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
"""


class ControlPlaneError(RuntimeError):
    pass


def build_binaries() -> Path:
    """Run build.sh (instant when cached) and return the bin dir it prints."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if result.returncode != 0:
        raise ControlPlaneError(
            f"{BUILD_SCRIPT} failed (exit {result.returncode}):\n{result.stderr[-4000:]}"
        )
    bin_dir = Path(result.stdout.strip().splitlines()[-1])
    missing = [b for b in BINARIES if not (bin_dir / b).exists()]
    if missing:
        raise ControlPlaneError(f"{bin_dir} lacks {', '.join(missing)}")
    return bin_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def generate_service_account_key(directory: Path) -> tuple[Path, Path]:
    private, public = directory / "sa.key", directory / "sa.pub"
    run_quiet(["openssl", "genrsa", "-out", str(private), "2048"])
    run_quiet(["openssl", "rsa", "-in", str(private), "-pubout", "-out", str(public)])
    return private, public


def run_quiet(cmd: list[str]) -> None:
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise ControlPlaneError(f"{cmd[0]} failed: {result.stdout[-2000:]}")


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class ControlPlane:
    """etcd + kube-apiserver on free loopback ports, all state in a temp dir."""

    def __init__(self, bin_dir: Path, keep_dir: bool = False) -> None:
        self.bin_dir = Path(bin_dir)
        self.keep_dir = keep_dir
        self.work_dir = Path(tempfile.mkdtemp(prefix="storefront-cp-"))
        self.admin_token = secrets.token_hex(24)
        self._pick_ports()
        self.kubeconfig_path = self.work_dir / "kubeconfig"
        self.audit_log_path = self.work_dir / "audit.log"
        self.ca_path = self.work_dir / "certs" / "apiserver.crt"
        self.startup_seconds: float | None = None
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> ControlPlane:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _pick_ports(self) -> None:
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.apiserver_port = free_port()
        self.server_url = f"https://{LOOPBACK}:{self.apiserver_port}"

    def start(self, attempts: int = 3) -> None:
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                break
            except ControlPlaneError as err:
                # A free port can be taken by someone else between probe and bind.
                self._stop_processes()
                if "address already in use" not in str(err) or attempt == attempts:
                    raise
                shutil.rmtree(self.work_dir / "etcd", ignore_errors=True)
                self._pick_ports()
        self.startup_seconds = time.monotonic() - started

    def _start_once(self) -> None:
        started = time.monotonic()
        self._start_etcd()
        self._start_apiserver()
        self._wait_ready(started + READY_TIMEOUT_S)
        self.write_kubeconfig(self.kubeconfig_path)

    def stop(self) -> None:
        self._stop_processes()
        if not self.keep_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _stop_processes(self) -> None:
        # Stop the apiserver before etcd so it does not spin on a dead backend.
        for process in reversed(self._processes):
            stop_process_group(process)
        self._processes.clear()

    def process_groups(self) -> dict[str, int]:
        """Binary name -> process group id of each running child."""
        return {Path(str(p.args[0])).name: p.pid for p in self._processes}  # type: ignore[index]

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.work_dir / f"{name}.log", "wb")
        process = subprocess.Popen(
            [str(self.bin_dir / name), *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: teardown kills all of it
            preexec_fn=die_with_parent,
        )
        log.close()
        self._processes.append(process)
        return process

    def _start_etcd(self) -> None:
        client = f"http://{LOOPBACK}:{self.etcd_port}"
        peer = f"http://{LOOPBACK}:{self.etcd_peer_port}"
        self._spawn(
            "etcd",
            [
                "--name=default",
                f"--data-dir={self.work_dir / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=default={peer}",
                # Throwaway data: skip fsync like envtest does, for speed.
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )

    def _apiserver_args(self) -> list[str]:
        sa_private, sa_public = generate_service_account_key(self.work_dir)
        tokens = self.work_dir / "tokens.csv"
        tokens.write_text(f'{self.admin_token},admin,admin-uid,"system:masters"\n')
        tokens.chmod(0o600)
        policy = self.work_dir / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        return [
            f"--etcd-servers=http://{LOOPBACK}:{self.etcd_port}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.apiserver_port}",
            f"--cert-dir={self.work_dir / 'certs'}",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            "--authorization-mode=RBAC",
            f"--token-auth-file={tokens}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa_public}",
            f"--service-account-signing-key-file={sa_private}",
            "--disable-admission-plugins=ServiceAccount",
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log_path}",
        ]

    def _start_apiserver(self) -> None:
        self._spawn("kube-apiserver", self._apiserver_args())

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    name = Path(str(process.args[0])).name  # type: ignore[index]
                    log = tail(self.work_dir / f"{name}.log")
                    raise ControlPlaneError(f"{name} exited with {process.returncode}:\n{log}")
            if self.ca_path.exists() and self.readyz() == "ok":
                return
            time.sleep(0.2)
        raise ControlPlaneError(
            f"kube-apiserver not ready after {READY_TIMEOUT_S}s:\n"
            f"{tail(self.work_dir / 'kube-apiserver.log')}"
        )

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        """GET a path on the API server as admin; returns (status, body)."""
        request = urllib.request.Request(
            self.server_url + path, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        try:
            context = self.ssl_context()
            with urllib.request.urlopen(request, context=context, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def readyz(self) -> str:
        try:
            status, body = self.get("/readyz", timeout=2.0)
        except (OSError, ssl.SSLError):
            return "unreachable"
        return body.strip() if status == 200 else f"{status}"

    def write_kubeconfig(self, path: Path) -> None:
        ca_data = base64.b64encode(self.ca_path.read_bytes()).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "storefront",
                    "cluster": {"server": self.server_url, "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": "admin", "user": {"token": self.admin_token}}],
            "contexts": [
                {"name": "storefront", "context": {"cluster": "storefront", "user": "admin"}}
            ],
            "current-context": "storefront",
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds the admin token: create it private from the start.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(config, handle, indent=2)  # JSON is valid YAML for kubectl


def die_with_parent() -> None:
    """Runs in the child before exec: if the test process is killed outright,
    the kernel kills etcd/apiserver too instead of leaving them running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()


def signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
