"""`make cluster-down` leaves nothing behind. Runs last (conftest orders it): it takes the cluster down."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cluster.conftest import REPO, Cluster, cluster_cli

NODE_PROGRAMS = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy",
                 "containerd", "containerd-shim-runc-v2", "runc", "coredns", "traefik", "local-path-provisioner",
                 "pause", "registry"}
OWNED = (str(REPO / ".cluster"), "/run/storefront", str(Path.home() / ".cache" / "storefront" / "containerd"))


def leftover_processes(node_netns: int) -> list[str]:
    """The node's programs, anything in the node's network namespace, anything in a pod's cgroup
    (a pod's PostgreSQL is the same program as the host's: only where it runs tells them apart). A node
    program is one started on the cluster's own files: the suite's apiserver-only control plane (tests/k8s,
    tests/operator, in the same pytest run) runs the same etcd and kube-apiserver on files of its own."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            program = Path(os.readlink(f"/proc/{pid}/exe")).name
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            cgroups = Path(f"/proc/{pid}/cgroup").read_text()
            netns = os.stat(f"/proc/{pid}/ns/net").st_ino
        except OSError:
            continue
        node_program = program in NODE_PROGRAMS and any(path in arguments for path in OWNED)
        if node_program or "/kubepods" in cgroups or netns == node_netns:
            found.append(f"{pid} {program}")
    return found


def command(*argv: str) -> str:
    return subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout


def test_cluster_down_leaves_no_process_mount_namespace_interface_or_rule(cluster: Cluster) -> None:
    node_netns = os.stat(f"/run/netns/{cluster.env['NETNS']}").st_ino
    assert leftover_processes(node_netns), "the cluster should be running before it is taken down"
    result = cluster_cli("down")
    assert result.returncode == 0, result.stdout
    print(result.stdout[-500:])

    assert leftover_processes(node_netns) == []
    mounts = [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if any(root in line for root in OWNED)]
    assert mounts == []
    namespaces = command("ip", "netns", "list").split()
    assert "storefront" not in namespaces and not [name for name in namespaces if name.startswith("cni-")]
    links = command("ip", "-o", "link", "show")
    assert not [line for line in links.splitlines() if any(name in line for name in ("sf-host", "cni0", "veth"))]
    assert "storefront" not in command("nft", "list", "tables")
    assert list(Path("/sys/fs/cgroup").glob("*/kubepods")) == []
    container_logs = Path("/var/log/containers")
    links_left = list(container_logs.iterdir()) if container_logs.exists() else []
    assert [link for link in links_left if str(REPO) in os.readlink(link)] == []
