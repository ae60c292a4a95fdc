"""`cluster up` and `cluster down`, run on the host.

up: build (or find cached) the binaries and the node's images, sweep what a crashed cluster left,
make the certificates and configuration, create the network namespace, start the supervisor inside
it, then install the add-ons (CoreDNS, storage, Traefik) and write .cluster/kubeconfig and
.cluster/env. down: stop the supervisor (it removes the pods first), then sweep."""

from __future__ import annotations

import json
import os
import shutil
import signal
import string
import subprocess
import sys
import time
from pathlib import Path

from . import layout, network, pki, teardown
from .components import kubeconfig, write_configs
from .layout import Layout

HACK = layout.REPO / "hack"
BUILD_SCRIPT = HACK / "cluster" / "build.sh"
IMAGES_SCRIPT = HACK / "cluster" / "images.sh"
ADDONS = HACK / "cluster" / "addons"
NODE_IMAGES = ("pause", "coredns", "traefik", "local-path-provisioner", "base")
UP_TIMEOUT_S = 240.0
DOWN_TIMEOUT_S = 120.0


def progress(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


def script_output(*argv: str) -> list[str]:
    """Run one of the build scripts; its progress goes straight to our stderr, its answer is stdout."""
    result = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed with exit code {result.returncode}")
    return result.stdout.strip().splitlines()


def node_bin_dir() -> Path:
    return Path(script_output(str(BUILD_SCRIPT), "node")[-1])


def build_images(*names: str) -> dict[str, tuple[str, Path]]:
    """name -> (reference, OCI archive) for each image, built or found in the cache."""
    built = {}
    for line in script_output(str(IMAGES_SCRIPT), "archive", *names):
        name, reference, archive = line.split()
        built[name] = (reference, Path(archive))
    return built


def supervisor_state(paths: Layout) -> dict | None:
    try:
        state = json.loads(paths.supervisor_state.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


def kubectl(bin_dir: Path, paths: Layout, *args: str, input: str | None = None,
            timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "kubectl"), f"--kubeconfig={paths.kubeconfig}", *args], input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def checked(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(result.args)} failed: {result.stdout[-3000:]}")
    return result.stdout


def addon_values(paths: Layout, images: dict[str, tuple[str, Path]]) -> dict[str, str]:
    return {
        "CLUSTER_DOMAIN": layout.CLUSTER_DOMAIN,
        "DNS_SERVICE_ADDRESS": layout.DNS_SERVICE_ADDRESS,
        "NODE_ADDRESS": layout.NODE_ADDRESS,
        "INGRESS_NODE_PORT": str(layout.INGRESS_NODE_PORT),
        "VOLUMES_DIR": str(paths.volumes),
        "COREDNS_IMAGE": images["coredns"][0],
        "TRAEFIK_IMAGE": images["traefik"][0],
        "LOCAL_PATH_IMAGE": images["local-path-provisioner"][0],
        "HELPER_IMAGE": images["base"][0],
    }


def install_addons(bin_dir: Path, paths: Layout, images: dict[str, tuple[str, Path]]) -> None:
    values = addon_values(paths, images)
    for manifest in sorted(ADDONS.glob("*.yaml")):
        text = string.Template(manifest.read_text()).substitute(values)
        checked(kubectl(bin_dir, paths, "apply", "--server-side", "--field-manager=storefront-cluster", "-f", "-",
                        input=text))
    for namespace, deployment in (("kube-system", "coredns"), ("local-path-storage", "local-path-provisioner"),
                                  ("traefik", "traefik")):
        checked(kubectl(bin_dir, paths, "rollout", "status", f"deployment/{deployment}", f"--namespace={namespace}",
                        "--timeout=120s", timeout=150))


def write_env(paths: Layout) -> None:
    lines = {
        "KUBECONFIG": str(paths.kubeconfig),
        "INGRESS_URL": layout.INGRESS_URL,
        "NETNS": layout.NETNS,
        "NODE_ADDRESS": layout.NODE_ADDRESS,
        "REGISTRY": layout.REGISTRY,
        "CONTAINERD_ADDRESS": str(paths.containerd_socket),
    }
    paths.env_file.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))


def wait_for_node(paths: Layout, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + UP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (paths.logs / "supervisor.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the node's supervisor exited with {process.returncode}:\n{log}")
        state = supervisor_state(paths)
        if state and state.get("ready"):
            return
        time.sleep(0.3)
    raise RuntimeError(f"the node was not ready after {UP_TIMEOUT_S:.0f}s; logs in {paths.logs}")


def start_supervisor(paths: Layout, bin_dir: Path, archives: list[Path]) -> subprocess.Popen[bytes]:
    paths.logs.mkdir(parents=True, exist_ok=True)
    command = network.in_namespace(sys.executable, "-m", "storefront_dev.cluster", "serve",
                                   f"--bin-dir={bin_dir}", *(f"--image={archive}" for archive in archives))
    hack = str(HACK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (hack, os.environ.get("PYTHONPATH", "")) if p)}
    with open(paths.logs / "supervisor.log", "ab") as log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)


def up(paths: Layout = Layout()) -> int:
    started = time.monotonic()
    if supervisor_state(paths) and (supervisor_state(paths) or {}).get("ready") and paths.env_file.exists():
        progress(f"already running; {paths.env_file}")
        return 0
    progress("building (or finding cached) the node's binaries")
    bin_dir = node_bin_dir()
    progress("building (or finding cached) the node's images")
    images = build_images(*NODE_IMAGES)
    progress("sweeping what an earlier cluster left")
    teardown.sweep(paths)
    for directory in (paths.etcd_data, paths.kubelet_root, paths.volumes, paths.registry_blobs, paths.pod_logs):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
    paths.run.mkdir(parents=True, exist_ok=True)
    pki.ensure(paths.pki)
    write_configs(paths, sandbox_image=images["pause"][0])
    paths.kubeconfig.write_text(kubeconfig(paths.pki, "admin"))
    paths.kubeconfig.chmod(0o600)
    progress(f"network namespace {layout.NETNS}: node {layout.NODE_ADDRESS}, host {layout.HOST_ADDRESS}")
    network.create()
    progress("starting the node (etcd, apiserver, controller-manager, scheduler, containerd, kubelet, kube-proxy)")
    supervisor = start_supervisor(paths, bin_dir, [archive for _, archive in images.values()])
    wait_for_node(paths, supervisor)
    checked(kubectl(bin_dir, paths, "wait", "--for=condition=Ready", f"node/{layout.NODE_NAME}", "--timeout=120s",
                    timeout=150))
    progress(f"node ready after {time.monotonic() - started:.1f}s; installing CoreDNS, storage and Traefik")
    install_addons(bin_dir, paths, images)
    write_env(paths)
    progress(f"cluster up in {time.monotonic() - started:.1f}s")
    print(paths.env_file.read_text(), end="")
    return 0


def down(paths: Layout = Layout()) -> int:
    started = time.monotonic()
    state = supervisor_state(paths)
    if state:
        progress("stopping the node (pods first)")
        os.kill(int(state["pid"]), signal.SIGTERM)
        deadline = time.monotonic() + DOWN_TIMEOUT_S
        while supervisor_state(paths) and time.monotonic() < deadline:
            time.sleep(0.3)
    teardown.sweep(paths)
    for path in (paths.kubeconfig, paths.env_file, paths.supervisor_state):
        path.unlink(missing_ok=True)
    for directory in (paths.etcd_data, paths.kubelet_root, paths.volumes, paths.registry_blobs, paths.pod_logs,
                      paths.run):
        shutil.rmtree(directory, ignore_errors=True)
    progress(f"cluster down in {time.monotonic() - started:.1f}s")
    return 0


def restart(paths: Layout, names: list[str]) -> int:
    """What `systemctl restart` is on a node: stop the component; the supervisor starts it again."""
    state = supervisor_state(paths)
    if not state:
        progress("not running")
        return 1
    before = dict(state["components"])
    for name in names:
        os.kill(int(before[name]), signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = (supervisor_state(paths) or {}).get("components", {})
        if all(current.get(name) not in (None, before[name]) for name in names):
            progress(f"restarted {', '.join(names)}")
            return 0
        time.sleep(0.2)
    progress(f"{', '.join(names)} did not come back in 60s")
    return 1
