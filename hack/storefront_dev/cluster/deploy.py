"""`cluster deploy`: the platform engineer's path on the cluster from `cluster up`.

Build the images (cached), import them into the node's containerd, `helm upgrade --install` the
operator chart with the operator image, apply the dev Storefront (k8s/samples/dev/storefront.yaml)
in the restricted namespace of k8s/namespace.yaml with the built images written into its spec (as
skaffold does), and wait until the operator reports it Ready."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from ..runner.routes import SERVICES
from . import layout
from .layout import Layout
from .lifecycle import IMAGES_SCRIPT, checked, kubectl, node_bin_dir, progress

SHOP_IMAGES = (*SERVICES, "paystack-simulator", "postgresql", "operator")
OPERATOR_CHART = layout.REPO / "charts" / "storefront-operator"
OPERATOR_NAMESPACE = "storefront-system"
NAMESPACE_MANIFEST = layout.REPO / "k8s" / "namespace.yaml"
DEV_STOREFRONT = layout.REPO / "k8s" / "samples" / "dev" / "storefront.yaml"
READY_TIMEOUT_S = 600
INGRESS_TIMEOUT_S = 120
# Every service answers with this header; the Ingress controller's own answers (no route yet, no
# ready backend) do not have it.
SERVICE_HEADER = "X-Request-ID"


def import_images(paths: Layout, names: tuple[str, ...]) -> dict[str, str]:
    """name -> reference, each built (or found) and present in the node's containerd."""
    result = subprocess.run([str(IMAGES_SCRIPT), "import", str(paths.containerd_socket), *names],
                            stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building or importing images failed (exit {result.returncode})")
    return dict(line.split() for line in result.stdout.splitlines())


def shop_namespace() -> str:
    return str(yaml.safe_load(NAMESPACE_MANIFEST.read_text())["metadata"]["name"])


def dev_storefront(images: dict[str, str]) -> list[dict[str, Any]]:
    """The sample's documents, with the images just built in the Storefront's spec."""
    documents = [doc for doc in yaml.safe_load_all(DEV_STOREFRONT.read_text()) if doc]
    for doc in documents:
        if doc["kind"] != "Storefront":
            continue
        spec = doc["spec"]
        for service in SERVICES:
            spec.setdefault("services", {}).setdefault(service, {})["image"] = images[service]
        spec["database"]["embedded"]["image"] = images["postgresql"]
        spec["payments"]["paystack"]["simulator"]["image"] = images["paystack-simulator"]
    return documents


def install_operator(bin_dir: Path, paths: Layout, image: str, namespace: str) -> None:
    repository, tag = image.rsplit(":", 1)
    checked(subprocess.run([
        str(bin_dir / "helm"), f"--kubeconfig={paths.kubeconfig}", "upgrade", "--install", "storefront-operator",
        str(OPERATOR_CHART), f"--namespace={OPERATOR_NAMESPACE}", "--create-namespace",
        f"--set=image.repository={repository}", f"--set=image.tag={tag}", "--set=image.pullPolicy=Never",
        f"--set=watch.namespaces={{{namespace}}}", "--wait", "--timeout=180s",
    ], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240))


def storefront_name() -> str:
    return next(doc["metadata"]["name"] for doc in yaml.safe_load_all(DEV_STOREFRONT.read_text())
                if doc and doc["kind"] == "Storefront")


def apply_storefront(bin_dir: Path, paths: Layout, images: dict[str, str], namespace: str) -> float:
    """Apply the dev Storefront and wait until the operator reports it Ready: the seconds that took."""
    applied = time.monotonic()
    documents = yaml.safe_dump_all(dev_storefront(images))
    # The sample is the source of truth here: take back fields someone changed by hand (kubectl patch).
    checked(kubectl(bin_dir, paths, "apply", "--server-side", "--force-conflicts", f"--namespace={namespace}", "-f", "-",
                    input=documents))
    name = storefront_name()
    progress(f"applied Storefront {namespace}/{name}; waiting until it is Ready")
    checked(kubectl(bin_dir, paths, "wait", "--for=condition=Ready", f"storefront/{name}", f"--namespace={namespace}",
                    f"--timeout={READY_TIMEOUT_S}s", timeout=READY_TIMEOUT_S + 30))
    return time.monotonic() - applied


def wait_for_ingress(bin_dir: Path, paths: Layout, namespace: str) -> float:
    """Until every service path of the shop's Ingress reaches its service: Ready says the pods are,
    the Ingress controller follows a moment later. The seconds that took."""
    started = time.monotonic()
    ingresses = json.loads(checked(kubectl(bin_dir, paths, "get", "ingress", f"--namespace={namespace}", "-o", "json",
                                           f"--selector=storefront.dev/instance={storefront_name()}")))["items"]
    waiting = [path["path"] for ingress in ingresses for rule in ingress["spec"]["rules"]
               for path in rule["http"]["paths"] if path["path"].startswith("/api/")]
    if not waiting:
        raise RuntimeError(f"the Storefront has no Ingress with /api/ paths in {namespace}")
    deadline = started + INGRESS_TIMEOUT_S
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{', '.join(waiting)} not served through {layout.INGRESS_URL} "
                               f"after {INGRESS_TIMEOUT_S}s")
        waiting = [path for path in waiting if not served(layout.INGRESS_URL + path)]
        time.sleep(0.2 if waiting else 0)
    return time.monotonic() - started


def served(url: str) -> bool:
    try:
        return SERVICE_HEADER in requests.get(url, timeout=5).headers
    except requests.RequestException:
        return False


def deploy(paths: Layout = Layout()) -> int:
    deploy_shop(paths)
    return 0


def deploy_shop(paths: Layout = Layout()) -> dict[str, str]:
    """`cluster deploy`; the images it deployed (name -> reference)."""
    started = time.monotonic()
    if not paths.env_file.exists():
        raise RuntimeError("no cluster: run `make cluster-up` first")
    bin_dir = node_bin_dir()
    progress("building (or finding cached) and importing the images")
    images = import_images(paths, SHOP_IMAGES)
    namespace = shop_namespace()
    checked(kubectl(bin_dir, paths, "apply", "--server-side", "-f", str(NAMESPACE_MANIFEST)))
    progress(f"installing the operator ({images['operator']}) into {OPERATOR_NAMESPACE}")
    install_operator(bin_dir, paths, images["operator"], namespace)
    to_ready = apply_storefront(bin_dir, paths, images, namespace)
    progress(f"Storefront Ready {to_ready:.1f}s after apply")
    routed = wait_for_ingress(bin_dir, paths, namespace)
    progress(f"every service answers through the Ingress {routed:.1f}s later ({time.monotonic() - started:.1f}s in all)")
    print(f"the shop: {layout.INGRESS_URL}", file=sys.stdout)
    return images
