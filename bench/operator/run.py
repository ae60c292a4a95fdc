"""Operator benchmark (prints numbers; not a test): apply-to-provisioned time for 1 Storefront and for 20
applied at once, and the operator's peak RSS.

"Provisioned" = every Secret written, every database and role created, every chart object applied
(the operator reports SecretsReady=True, DatabasesReady=True and WorkloadsReady past "Blocked").
Targets: 1 in < 5 s, 20 in < 60 s, RSS < 200 MiB.

    make bench-operator      (or: PYTHONPATH=hack .venv/bin/python bench/operator/run.py)
    BENCH_OPERATOR_LOG=/tmp/operator.log keeps the operator's log.
"""
from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY / "hack"))

from storefront_common.testing.postgres import PostgresServer  # noqa: E402
from storefront_dev.controlplane import ControlPlane, build_binaries  # noqa: E402
from storefront_operator.kube import DEPLOYMENT, SECRET, STOREFRONT, Kube, ResourceKind  # noqa: E402

NAMESPACE = "bench"
CRD_FILE = REPOSITORY / "k8s" / "crds" / "storefront.yaml"
TIMEOUT_S = 180.0


def secret(name: str, values: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NAMESPACE},
            "type": "Opaque", "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}


def storefront(name: str, postgres: PostgresServer) -> dict[str, Any]:
    return {
        "apiVersion": "storefront.dev/v1alpha1", "kind": "Storefront",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "version": "0.1.0", "imageRegistry": "registry.example.com/storefront",
            "ingress": {"host": f"{name}.bench.example"},
            "database": {"server": {"host": "127.0.0.1", "port": postgres.port, "sslMode": "disable",
                                    "adminSecretRef": {"name": "bench-db-admin"}}, "deletionPolicy": "Delete"},
            "payments": {"paystack": {"secretKeyRef": {"name": "bench-paystack", "key": "secretKey"}}},
        },
    }


def provisioned(item: dict[str, Any]) -> bool:
    conditions = {c["type"]: c for c in (item.get("status") or {}).get("conditions") or []}
    return (conditions.get("SecretsReady", {}).get("status") == "True"
            and conditions.get("DatabasesReady", {}).get("status") == "True"
            and conditions.get("WorkloadsReady", {}).get("reason") not in (None, "Blocked"))


def apply_and_time(kube: Kube, postgres: PostgresServer, names: list[str]) -> dict[str, float]:
    created: dict[str, float] = {}
    for name in names:
        kube.create(STOREFRONT, NAMESPACE, storefront(name, postgres))
        created[name] = time.monotonic()
    done: dict[str, float] = {}
    deadline = time.monotonic() + TIMEOUT_S
    while len(done) < len(names) and time.monotonic() < deadline:
        for item in kube.list(STOREFRONT, NAMESPACE, ""):
            name = item["metadata"]["name"]
            if name in created and name not in done and provisioned(item):
                done[name] = time.monotonic() - created[name]
        time.sleep(0.05)
    missing = sorted(set(names) - set(done))
    if missing:
        raise SystemExit(f"not provisioned within {TIMEOUT_S}s: {', '.join(missing)}")
    for name in names:  # the status says so; check the objects are really there
        deployments = kube.list(DEPLOYMENT, NAMESPACE, f"storefront.dev/instance={name}")
        assert len(deployments) == 5, f"{name}: {len(deployments)} Deployments"
    return done


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report(label: str, seconds: dict[str, float], target: float) -> None:
    values = sorted(seconds.values())
    p50, worst = statistics.median(values), max(values)
    verdict = "ok" if worst < target else "MISSED"
    print(f"{label:<22} n={len(values):<3} p50 {p50:6.2f} s   max {worst:6.2f} s   (target max < {target:.0f} s: {verdict})")


def main() -> int:
    bin_dir = build_binaries()
    with ControlPlane(bin_dir) as control_plane, PostgresServer(auth="scram-sha-256") as postgres, \
            tempfile.TemporaryDirectory(prefix="bench-operator-") as work:
        kubectl = [str(bin_dir / "kubectl"), "--kubeconfig", str(control_plane.kubeconfig_path)]
        subprocess.run([*kubectl, "apply", "--server-side", "-f", str(CRD_FILE)], check=True, capture_output=True)
        subprocess.run([*kubectl, "wait", "--for=condition=Established", "crd/storefronts.storefront.dev"],
                       check=True, capture_output=True)
        kube = Kube.from_environment(str(control_plane.kubeconfig_path))
        kube.create(ResourceKind("v1", "Namespace", "namespaces", namespaced=False), "",
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        kube.create(SECRET, NAMESPACE, secret("bench-db-admin", {"username": "postgres",
                                                                  "password": postgres.admin_password}))
        kube.create(SECRET, NAMESPACE, secret("bench-paystack", {"secretKey": "sk_test_bench"}))

        log_path = Path(os.environ.get("BENCH_OPERATOR_LOG") or Path(work) / "operator.log")
        env = {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig_path), "STOREFRONT_NAMESPACES": NAMESPACE,
               "HELM_BINARY": str(bin_dir / "helm")}
        with open(log_path, "wb") as log:
            operator = subprocess.Popen([sys.executable, "-m", "storefront_operator"], env=env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            time.sleep(3)  # let kopf start its watches
            if operator.poll() is not None:
                raise SystemExit(f"operator exited:\n{log_path.read_text()[-3000:]}")
            single = apply_and_time(kube, postgres, ["solo"])
            batch = apply_and_time(kube, postgres, [f"shop{index:02d}" for index in range(20)])
            rss = peak_rss_mib(operator.pid)
        finally:
            operator.terminate()
            operator.wait(timeout=30)

    print("operator benchmark: apply -> Secrets, databases and all children provisioned")
    report("1 Storefront", single, 5)
    report("20 Storefronts at once", batch, 60)
    print(f"{'operator peak RSS':<22} {rss:6.1f} MiB   (target < 200 MiB: {'ok' if rss < 200 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
