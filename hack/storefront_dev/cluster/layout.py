"""Where the node's parts live: its addresses, ports and directories, stated once.

The node runs inside a network namespace with no route out. The host reaches it only through a veth
pair: HOST_ADDRESS on the host end, NODE_ADDRESS (the node's InternalIP, where the API server,
the kubelet, the registry and the Ingress NodePort listen) on the other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("STOREFRONT_CACHE", Path.home() / ".cache" / "storefront"))

NETNS = "storefront"
HOST_INTERFACE = "sf-host"
NODE_INTERFACE = "sf-node"
HOST_ADDRESS = "10.213.0.1"
NODE_ADDRESS = "10.213.0.2"
LINK_PREFIX = 30
POD_CIDR = "10.244.0.0/16"
NODE_POD_SUBNET = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_ADDRESS = "10.96.0.1"
DNS_SERVICE_ADDRESS = "10.96.0.10"
NODE_NAME = "storefront-node"
CLUSTER_DOMAIN = "cluster.local"
# The firewall table on the host that keeps the namespace from opening connections to the host.
HOST_FIREWALL_TABLE = "storefront_cluster"

API_PORT = 6443
ETCD_PORT = 2379
ETCD_PEER_PORT = 2380
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
PROXY_HEALTHZ_PORT = 10256
REGISTRY_PORT = 5000
INGRESS_NODE_PORT = 30080


@dataclass(frozen=True)
class Layout:
    """Every path of one cluster. `state` is per checkout (.cluster/); `images` is the containerd
    image store, kept between clusters as a cache; `run` holds sockets, outside any long path."""

    state: Path = REPO / ".cluster"
    images: Path = CACHE / "containerd"
    run: Path = Path("/run/storefront") / NETNS

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def env_file(self) -> Path:
        return self.state / "env"

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def config(self) -> Path:
        return self.state / "config"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def kubelet_root(self) -> Path:
        return self.state / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.state / "pod-logs"

    @property
    def volumes(self) -> Path:
        return self.state / "volumes"

    @property
    def registry_blobs(self) -> Path:
        return self.state / "registry"

    @property
    def supervisor_state(self) -> Path:
        """JSON the supervisor keeps current: its pid, each component's pid, readiness."""
        return self.state / "supervisor.json"

    @property
    def containerd_state(self) -> Path:
        return self.run / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def owned_paths(self) -> tuple[Path, ...]:
        """Where any mount of this cluster can be: the teardown unmounts everything below these."""
        return (self.state, self.images, self.run)


NODE_URL = f"https://{NODE_ADDRESS}:{API_PORT}"
INGRESS_URL = f"http://{NODE_ADDRESS}:{INGRESS_NODE_PORT}"
REGISTRY = f"{NODE_ADDRESS}:{REGISTRY_PORT}"
