"""skaffold.yaml, run: `skaffold run` builds every image with the custom builder (buildah through
hack/cluster/images.sh), pushes it to the cluster's registry and installs the operator and the dev
Storefront; `skaffold dev -p chart-only` syncs an edited .py file into its pod, served through the
Ingress without a rebuild.

Skaffold runs inside the cluster's network namespace: the registry and the API server are local
there, and anything it might try beyond them (an update check, a base image's registry) fails at
once without leaving. Its builds are then layer-cache hits: the images are built on the host first,
where PyPI answers."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.cluster.conftest import REPO, SERVICES, Cluster

NAMESPACE = "skaffold"
SKAFFOLD_CONFIG = "global:\n  collect-metrics: false\n  update-check: false\n  survey:\n    disable-prompt: true\n"
DEV_IMAGES = [f"{service}-dev" for service in SERVICES] + ["postgresql"]
RUN_IMAGES = [*SERVICES, "postgresql", "paystack-simulator", "operator"]


class Skaffold:
    def __init__(self, cluster: Cluster, workdir: Path, config: Path) -> None:
        self.cluster = cluster
        self.workdir = workdir
        bin_dir = subprocess.run([str(REPO / "hack" / "cluster" / "build.sh"), "skaffold"], stdout=subprocess.PIPE,
                                 text=True, check=True).stdout.split()[-1]
        self.env = {**os.environ, "KUBECONFIG": cluster.env["KUBECONFIG"],
                    "PATH": os.pathsep.join([str(cluster.bin_dir), bin_dir, os.environ["PATH"]])}
        self.flags = [f"--config={config}", f"--default-repo={cluster.env['REGISTRY']}", f"--namespace={NAMESPACE}",
                      "--update-check=false", "--interactive=false"]

    def command(self, *args: str) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.cluster.env['NETNS']}", "--", "skaffold", *args, *self.flags]

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), cwd=self.workdir, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*args), cwd=self.workdir, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)


def prebuild(workdir: Path, names: list[str]) -> None:
    """Build on the host (PyPI answers here), so that skaffold's builds in the namespace hit the cache."""
    subprocess.run([str(workdir / "hack" / "cluster" / "images.sh"), "build", *names], stdout=subprocess.DEVNULL,
                   check=True, timeout=1800)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's tracked files in a scratch directory: the test edits sources there, not here."""
    workdir = tmp_path_factory.mktemp("skaffold") / "storefront"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (REPO / name).exists():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, workdir / name)
    return workdir


@pytest.fixture(scope="module")
def skaffold(cluster: Cluster, checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Skaffold]:
    cluster.namespace(NAMESPACE)
    config = tmp_path_factory.mktemp("skaffold-config") / "config"
    config.write_text(SKAFFOLD_CONFIG)
    yield Skaffold(cluster, checkout, config)
    cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def test_skaffold_run_builds_pushes_and_deploys_the_operator_and_a_storefront(skaffold: Skaffold,
                                                                              cluster: Cluster) -> None:
    prebuild(skaffold.workdir, RUN_IMAGES)
    started = time.monotonic()
    result = skaffold.run("run")
    assert result.returncode == 0, result.stdout[-4000:]
    print(f"skaffold run: {time.monotonic() - started:.1f}s")
    registry = cluster.env["REGISTRY"]
    for image in RUN_IMAGES:
        assert f"storefront/{image} -> {registry}/" in result.stdout, image
    cluster.kubectl("wait", "--for=condition=Ready", "storefront/dev", f"--namespace={NAMESPACE}", "--timeout=300s",
                    timeout=330)
    print(f"skaffold run to a Ready Storefront: {time.monotonic() - started:.1f}s")
    for service in SERVICES:
        deployment = cluster.get("deployment", f"dev-{service}", f"--namespace={NAMESPACE}")
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"].startswith(f"{registry}/") and "@sha256:" in container["image"]
        assert deployment["status"].get("availableReplicas") == 1, service
    deleted = skaffold.run("delete")
    assert deleted.returncode == 0, deleted.stdout[-2000:]


def test_skaffold_dev_syncs_an_edited_python_file_into_the_running_pod(skaffold: Skaffold,
                                                                       cluster: Cluster) -> None:
    prebuild(skaffold.workdir, DEV_IMAGES)
    process = skaffold.start("dev", "--profile=chart-only", "--port-forward=off", "--status-check=true")
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: "Watching for changes" in "".join(output), 900, "skaffold dev to deploy", output)
        url = f"{cluster.ingress_url}/api/v1/products/{uuid.uuid4()}"

        def detail() -> str:
            response = requests.get(url, headers={"Host": "localhost"}, timeout=10)
            return str(response.json().get("detail")) if response.status_code == 404 else ""

        wait_for(lambda: detail() == "The product was not found.", 300, "the dev shop behind the Ingress", output)
        built = "".join(output).count("Building [")
        source = skaffold.workdir / "services" / "products" / "storefront_products" / "routes" / "products.py"
        source.write_text(source.read_text().replace('not_found("product")', 'not_found("product, synced,")'))
        started = time.monotonic()
        wait_for(lambda: detail() == "The product, synced, was not found.", 120, "the synced change", output)
        print(f"edit to served through the Ingress: {time.monotonic() - started:.1f}s")
        log = "".join(output)
        assert "Syncing 1 files for" in log and log.count("Building [") == built, log[-3000:]
    finally:
        process.send_signal(2)  # Ctrl-C: skaffold dev deletes what it deployed
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
        reader.join(timeout=5)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, output: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}:\n{''.join(output)[-4000:]}")
