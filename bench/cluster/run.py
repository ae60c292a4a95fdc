"""Cluster benchmark (prints numbers; not a test): the real single-node cluster, as `make cluster-up`
and `make cluster-deploy` run it, with the Go programs and images already built (`make test` or
`make cluster-deploy` once builds them).

- cluster up: from nothing running to a Ready node with CoreDNS, storage and Traefik rolled out;
- deploy: images checked and imported, the operator installed, the dev Storefront applied, until Ready;
- apply -> Ready: the dev Storefront alone, first on the fresh cluster, then deleted and applied again
  (the operator already running, the images in containerd: the warm case);
- memory with one Storefront: proportional set size (shared pages split between their users) of the
  node's programs (etcd, the Kubernetes components, containerd and its shims) and of every pod;
- cluster down.

    make bench-cluster      (it stops a running cluster first, and leaves none running)
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY / "hack"))

from storefront_dev.cluster import layout, lifecycle  # noqa: E402
from storefront_dev.cluster.deploy import apply_storefront, deploy_shop, shop_namespace, storefront_name  # noqa: E402
from storefront_dev.cluster.layout import Layout  # noqa: E402

SETTLE_S = 20.0
POD_CGROUP = re.compile(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})")


def timed(step: str, action: Callable[..., object], *args: object) -> float:
    started = time.monotonic()
    action(*args)
    seconds = time.monotonic() - started
    print(f"{step}: {seconds:.1f} s", flush=True)
    return seconds


def pss_kib(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_by_group(bin_dir: Path, paths: Layout) -> dict[str, int]:
    """KiB of PSS: each pod's processes under its Kubernetes namespace, the node's own under "node"."""
    pods = json.loads(lifecycle.checked(lifecycle.kubectl(bin_dir, paths, "get", "pods", "--all-namespaces",
                                                          "-o", "json")))["items"]
    namespace_of = {pod["metadata"]["uid"].replace("-", "_"): pod["metadata"]["namespace"] for pod in pods}
    node_netns = os.stat(f"/run/netns/{layout.NETNS}").st_ino
    groups: dict[str, int] = defaultdict(int)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            netns = os.stat(f"/proc/{pid}/ns/net").st_ino
            cgroups = Path(f"/proc/{pid}/cgroup").read_text()
        except OSError:
            continue
        # cgroupfs names a pod's cgroup pod<uid>, the systemd driver pod<uid with underscores>.slice
        pod = POD_CGROUP.search(cgroups)
        if pod:
            groups[namespace_of.get(pod.group(1).replace("-", "_"), "pods (gone)")] += pss_kib(pid)
        elif netns == node_netns:
            groups["node"] += pss_kib(pid)
    return dict(groups)


def delete_storefront(bin_dir: Path, paths: Layout, namespace: str) -> None:
    lifecycle.checked(lifecycle.kubectl(bin_dir, paths, "delete", "storefront", storefront_name(),
                                        f"--namespace={namespace}", "--wait=true", "--timeout=300s", timeout=330))
    # The next apply must not race the old pods' termination for CPU.
    lifecycle.checked(lifecycle.kubectl(bin_dir, paths, "wait", "--for=delete", "pods", "--all",
                                        f"--namespace={namespace}", "--timeout=300s", timeout=330))


def main() -> int:
    paths = Layout()
    print("stopping any running cluster first", flush=True)
    lifecycle.down(paths)
    try:
        timed("cluster up (programs and node images cached)", lifecycle.up, paths)
        started = time.monotonic()
        images = deploy_shop(paths)
        print(f"cluster deploy (images checked and imported, operator installed, Storefront Ready): "
              f"{time.monotonic() - started:.1f} s", flush=True)
        time.sleep(SETTLE_S)
        bin_dir = lifecycle.node_bin_dir()
        memory = memory_by_group(bin_dir, paths)
        total = sum(memory.values())
        print(f"memory with one Storefront (PSS, {SETTLE_S:.0f} s after Ready): {total / 1024:.0f} MiB; "
              + ", ".join(f"{group} {kib / 1024:.0f} MiB" for group, kib in sorted(memory.items())), flush=True)
        namespace = shop_namespace()
        timed("Storefront deleted (finalizer done, pods gone)", delete_storefront, bin_dir, paths, namespace)
        seconds = apply_storefront(bin_dir, paths, images, namespace)
        print(f"Storefront apply -> Ready, warm (operator running, images present): {seconds:.1f} s", flush=True)
    finally:
        timed("cluster down", lifecycle.down, paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
