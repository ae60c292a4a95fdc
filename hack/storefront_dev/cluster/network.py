"""The cluster's network namespace: no default route out, one veth pair to the host, and a firewall
table on the host that lets the namespace answer the host but never open a connection to it (it is
refused at once) nor send anything through it (counted, so a test can show nothing was).

A pod's packet to any address outside the node therefore meets "network unreachable" inside the
namespace at once; nothing reaches the machine's resolver or the outside."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from . import layout

NETNS_PATH = Path("/run/netns") / layout.NETNS

HOST_FIREWALL = f"""\
table inet {layout.HOST_FIREWALL_TABLE} {{
  chain input {{
    type filter hook input priority filter; policy accept;
    iifname "{layout.HOST_INTERFACE}" ct state established,related accept
    iifname "{layout.HOST_INTERFACE}" counter reject with icmpx admin-prohibited
  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname "{layout.HOST_INTERFACE}" counter drop
    oifname "{layout.HOST_INTERFACE}" counter drop
  }}
}}
"""

# Inside the namespace: a pod's traffic crosses the cni0 bridge (so Service rules must see bridged
# packets) and is routed between cni0 and the veth.
NAMESPACE_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.ipv4.conf.all.rp_filter": "0",
}


def run(*argv: str, input: str | None = None) -> None:
    result = subprocess.run(argv, input=input, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stdout.strip()}")


def in_namespace(*argv: str) -> list[str]:
    """A command line that runs `argv` inside the namespace, in the host's mount namespace (unlike
    `ip netns exec`, which would give it a mount namespace of its own)."""
    return ["nsenter", f"--net={NETNS_PATH}", "--", *argv]


def exists() -> bool:
    return NETNS_PATH.exists()


def namespace_inode() -> int | None:
    try:
        return os.stat(NETNS_PATH).st_ino
    except OSError:
        return None


def create() -> None:
    run("ip", "netns", "add", layout.NETNS)
    run("ip", "link", "add", layout.HOST_INTERFACE, "type", "veth", "peer", "name", layout.NODE_INTERFACE,
        "netns", layout.NETNS)
    run("ip", "address", "add", f"{layout.HOST_ADDRESS}/{layout.LINK_PREFIX}", "dev", layout.HOST_INTERFACE)
    run("ip", "link", "set", layout.HOST_INTERFACE, "up")
    # Pods are reachable from the host, and the host's refusals find their way back to them.
    run("ip", "route", "add", layout.POD_CIDR, "via", layout.NODE_ADDRESS, "dev", layout.HOST_INTERFACE)
    run(*in_namespace("ip", "address", "add", f"{layout.NODE_ADDRESS}/{layout.LINK_PREFIX}",
                      "dev", layout.NODE_INTERFACE))
    run(*in_namespace("ip", "link", "set", layout.NODE_INTERFACE, "up"))
    run(*in_namespace("ip", "link", "set", "lo", "up"))
    # The node's own processes reach Services as on any node: kube-proxy rewrites the address, but the
    # kernel must find a route for it first (a node elsewhere has its default route for that).
    run(*in_namespace("ip", "route", "add", layout.SERVICE_CIDR, "dev", "lo"))
    for key, value in NAMESPACE_SYSCTLS.items():
        run(*in_namespace("sysctl", "-q", "-w", f"{key}={value}"))
    run("nft", "-f", "-", input=HOST_FIREWALL)


def delete() -> None:
    """Remove the firewall table and the namespace (its end of the veth goes with it, and the pair
    with it). Processes still inside must be gone first, or the namespace outlives its name."""
    subprocess.run(["nft", "delete", "table", "inet", layout.HOST_FIREWALL_TABLE],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "delete", layout.NETNS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "link", "delete", layout.HOST_INTERFACE],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
