"""Sweep away whatever a cluster left: processes, mounts, cgroups, the network namespace.

An orderly stop (the supervisor's) removes the pods through the CRI first; this sweep is what makes
`down` complete even after a crash or a SIGKILL, and what `up` runs before it starts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from . import network
from .layout import Layout

CGROUP_ROOT = Path("/sys/fs/cgroup")
POD_CGROUP = "kubepods"
CONTAINER_LOG_LINKS = Path("/var/log/containers")


def _in_pod_cgroup(pid: str) -> bool:
    try:
        return f"/{POD_CGROUP}" in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def _in_namespace(pid: str, inode: int | None) -> bool:
    if inode is None:
        return False
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == inode
    except OSError:
        return False


def cluster_processes() -> list[int]:
    """Every process inside the cluster's network namespace (components, shims) or in a pod's cgroup."""
    inode = network.namespace_inode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid() and (_in_namespace(entry, inode) or _in_pod_cgroup(entry)):
            found.append(int(entry))
    return found


def kill_processes(timeout: float = 10.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in cluster_processes():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while cluster_processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not cluster_processes():
            return


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape")  # mountinfo writes spaces etc. as \040


def cluster_mounts(paths: Layout) -> list[str]:
    owned = [str(path.resolve()) if path.exists() else str(path) for path in paths.owned_paths]
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = _unescape(line.split()[4])
        if any(point == root or point.startswith(root + "/") for root in owned):
            found.append(point)
    return found


def unmount_all(paths: Layout) -> None:
    for _ in range(5):  # a lazy unmount can reveal a mount beneath
        points = sorted(set(cluster_mounts(paths)), key=lambda p: p.count("/"), reverse=True)
        if not points:
            return
        for point in points:
            if subprocess.run(["umount", point], stderr=subprocess.DEVNULL).returncode != 0:
                subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)


def pod_cgroups() -> list[Path]:
    """The kubelet's cgroup trees, in every mounted hierarchy (cgroup v1 and the unified one)."""
    if not CGROUP_ROOT.exists():
        return []
    found = [CGROUP_ROOT / POD_CGROUP] if (CGROUP_ROOT / POD_CGROUP).is_dir() else []
    for hierarchy in CGROUP_ROOT.iterdir():
        if (hierarchy / POD_CGROUP).is_dir():
            found.append(hierarchy / POD_CGROUP)
    return found


def remove_cgroups() -> None:
    for tree in pod_cgroups():
        for directory in sorted((p for p in tree.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                directory.rmdir()
            except OSError:
                pass
        try:
            tree.rmdir()
        except OSError:
            pass


def remove_container_log_links(paths: Layout) -> None:
    """The kubelet links every container's log into /var/log/containers (a fixed path)."""
    if not CONTAINER_LOG_LINKS.is_dir():
        return
    pod_logs = str(paths.pod_logs)
    for link in CONTAINER_LOG_LINKS.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(pod_logs + "/"):
            link.unlink()


def sweep(paths: Layout) -> None:
    kill_processes()
    unmount_all(paths)
    remove_cgroups()
    remove_container_log_links(paths)
    network.delete()
