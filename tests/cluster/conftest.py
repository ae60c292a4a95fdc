"""The real cluster, as a platform engineer drives it: `make cluster-up`, then `make cluster-deploy`,
then the shop at INGRESS_URL. The suite starts the cluster once (instant when it already runs) and
takes it down at the end (test_teardown checks that nothing is left), unless KEEP_CLUSTER is set."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storefront_dev.runner.routes import SERVICES
from storefront_dev.shop_api import Account, Api

REPO = Path(__file__).resolve().parents[2]
SHOP_NAMESPACE = "shop"
STOREFRONT = "dev"
Completed = subprocess.CompletedProcess[str]


def cluster_cli(*args: str, timeout: float = 1800) -> Completed:
    """python -m storefront_dev.cluster ARGS, as the Makefile runs it; progress is kept for the report."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "hack"), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "storefront_dev.cluster", *args], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@dataclass
class Cluster:
    env: dict[str, str]
    bin_dir: Path

    @property
    def ingress_url(self) -> str:
        return self.env["INGRESS_URL"]

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 120, check: bool = True) -> Completed:
        result = subprocess.run([str(self.bin_dir / "kubectl"), f"--kubeconfig={self.env['KUBECONFIG']}", *args],
                                input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr[-2000:]}"
        return result

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def apply(self, manifest: dict[str, Any] | list[dict[str, Any]], namespace: str | None = None) -> None:
        documents = manifest if isinstance(manifest, list) else [manifest]
        body = json.dumps({"apiVersion": "v1", "kind": "List", "items": documents})
        self.kubectl("apply", "--server-side", "--force-conflicts", *([f"--namespace={namespace}"] if namespace else []),
                     "-f", "-", input=body)

    def image(self, name: str) -> str:
        """The reference of an image the cluster can run (built here, imported by `cluster up`)."""
        result = subprocess.run([str(REPO / "hack" / "cluster" / "images.sh"), "build", name],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
        return result.stdout.split()[-1]

    def run_pod(self, namespace: str, name: str, image: str, command: list[str], timeout: float = 120,
                mounts: dict[str, str] | None = None, **spec: Any) -> tuple[str, str]:
        """Run a pod that meets the restricted Pod Security Standard to completion: (phase, logs).
        `mounts` maps volumes of `spec` to where the container sees them."""
        container = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "command": command,
                     "volumeMounts": [{"name": volume, "mountPath": path} for volume, path in (mounts or {}).items()],
                     "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                         "runAsNonRoot": True, "runAsUser": 65532,
                                         "seccompProfile": {"type": "RuntimeDefault"}}}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
               "spec": {"restartPolicy": "Never", "containers": [container], **spec}}
        self.kubectl("delete", "pod", name, f"--namespace={namespace}", "--ignore-not-found", "--now")
        self.apply(pod)
        deadline = time.monotonic() + timeout
        phase = ""
        while time.monotonic() < deadline:
            phase = self.get("pod", name, f"--namespace={namespace}")["status"].get("phase", "")
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(0.5)
        logs = self.kubectl("logs", name, f"--namespace={namespace}", check=False).stdout
        self.kubectl("delete", "pod", name, f"--namespace={namespace}", "--now", "--wait=false")
        return phase, logs

    def recent_logs(self, namespace: str, selector: str, lines: int = 60) -> str:
        """The last log lines of every container the selector picks, each prefixed with its pod: what a
        failure message shows, since the pods may be gone by the time anyone reads it."""
        result = self.kubectl("logs", f"--namespace={namespace}", f"--selector={selector}", "--all-containers",
                              "--prefix", f"--tail={lines}", "--max-log-requests=20", check=False)
        return result.stdout + result.stderr

    def namespace(self, name: str) -> str:
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted"}}})
        return name


@dataclass
class Shop:
    cluster: Cluster
    api: Api
    admin: Account

    def exec(self, service: str, *command: str, check: bool = True) -> Completed:
        return self.cluster.kubectl("exec", f"deployment/{STOREFRONT}-{service}", f"--namespace={SHOP_NAMESPACE}",
                                    "--", *command, check=check, timeout=120)

    def ledger(self) -> dict[str, Any]:
        result = self.exec("payments", "flask", "--app", "storefront_payments.wsgi", "check-ledger", check=False)
        assert result.stdout.startswith("{"), f"check-ledger did not run: {result.stderr[-1000:]}"
        return dict(json.loads(result.stdout))

    def storefront(self) -> dict[str, Any]:
        return self.cluster.get("storefront", STOREFRONT, f"--namespace={SHOP_NAMESPACE}")

    def wait_ready(self, timeout: float = 300) -> None:
        """Until the operator says Ready for the current generation, with every Deployment available."""
        self.cluster.kubectl("wait", "--for=condition=Ready", f"storefront/{STOREFRONT}", f"--namespace={SHOP_NAMESPACE}",
                             f"--timeout={int(timeout)}s", timeout=timeout + 30)
        for service in SERVICES:
            self.cluster.kubectl("rollout", "status", f"deployment/{STOREFRONT}-{service}",
                                 f"--namespace={SHOP_NAMESPACE}", f"--timeout={int(timeout)}s", timeout=timeout + 30)


def pytest_configure(config: pytest.Config) -> None:
    """Print what every cluster test measured (times, request counts, ledger totals), passed or not."""
    if "P" not in config.option.reportchars and "A" not in config.option.reportchars:
        config.option.reportchars += "P"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """test_teardown takes the cluster down: it runs after every other test."""
    items.sort(key=lambda item: item.module.__name__ == "test_teardown")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    started = time.monotonic()
    result = cluster_cli("up")
    if result.returncode != 0:
        pytest.fail(f"cluster up failed:\n{result.stdout[-6000:]}", pytrace=False)
    print(f"\ncluster up: {time.monotonic() - started:.1f}s\n{result.stdout[-1500:]}")
    bin_dir = Path(subprocess.run([str(REPO / "hack" / "cluster" / "build.sh"), "node"], stdout=subprocess.PIPE,
                                  text=True, check=True).stdout.split()[-1])
    yield Cluster(read_env(REPO / ".cluster" / "env"), bin_dir)
    if not os.environ.get("KEEP_CLUSTER"):  # KEEP_CLUSTER=1: leave it running, to look at after a failure
        cluster_cli("down")


@pytest.fixture(scope="session")
def shop(cluster: Cluster) -> Shop:
    started = time.monotonic()
    result = cluster_cli("deploy")
    if result.returncode != 0:
        pytest.fail(f"cluster deploy failed:\n{result.stdout[-6000:]}", pytrace=False)
    print(f"\ncluster deploy: {time.monotonic() - started:.1f}s\n{result.stdout[-600:]}")
    secret = cluster.get("secret", f"{STOREFRONT}-admin", f"--namespace={SHOP_NAMESPACE}")["data"]
    email, password = (decode(secret[key]) for key in ("STOREFRONT_ADMIN_EMAIL", "STOREFRONT_ADMIN_PASSWORD"))
    api = Api(cluster.ingress_url)
    try:
        admin = api.login(email, password)
    except AssertionError as refused:
        users = cluster.recent_logs(SHOP_NAMESPACE, "app.kubernetes.io/component=users")
        ingress = cluster.recent_logs("traefik", "app.kubernetes.io/name=traefik", lines=20)
        pytest.fail(f"the first admin's login failed right after deploy: {refused}\n--- users pods and jobs\n"
                    f"{users[-8000:]}\n--- ingress controller\n{ingress[-3000:]}", pytrace=False)
    return Shop(cluster, api, admin)


def decode(value: str) -> str:
    return base64.b64decode(value).decode()
