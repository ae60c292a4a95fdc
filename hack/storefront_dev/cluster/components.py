"""The node's processes, in start order, with their configuration files and how each says it is ready.

Every component runs inside the cluster's network namespace (the supervisor is started there), in
the host's mount namespace, so the kubelet, containerd and runc see the same mounts.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import layout
from .layout import Layout

CNI_BIN_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins
RUNC = Path("/usr/sbin/runc")
CONTAINERD = Path("/usr/bin/containerd")


@dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)


def _json(value: object) -> str:
    return json.dumps(value, indent=2) + "\n"


def kubeconfig(pki: Path, client: str, server: str = layout.NODE_URL) -> str:
    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    return _json({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "storefront", "cluster": {"server": server, "certificate-authority-data": data("ca.crt")}}],
        "users": [{"name": client, "user": {"client-certificate-data": data(f"{client}.crt"),
                                            "client-key-data": data(f"{client}.key")}}],
        "contexts": [{"name": "storefront", "context": {"cluster": "storefront", "user": client}}],
        "current-context": "storefront",
    })


def containerd_config(paths: Layout, sandbox_image: str) -> str:
    return f"""\
version = 2
root = "{paths.images}"
state = "{paths.containerd_state}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{paths.containerd_socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{paths.images}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  # This VM lacks CAP_SYS_RESOURCE: without this no container starts.
  restrict_oom_score_adj = true
  disable_apparmor = true
  # Pod network namespaces under the state dir, not /run/netns: the teardown finds them all there.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{RUNC}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{paths.config / 'cni'}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{paths.config / 'registries'}"
"""


def cni_config(paths: Layout) -> str:
    return _json({
        "cniVersion": "1.0.0",
        "name": "storefront",
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": layout.NODE_POD_SUBNET}]],
                      "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(paths.state / "pod-addresses")}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    })


def registry_hosts() -> str:
    """The cluster's own registry (skaffold pushes there) speaks plain HTTP."""
    return f'server = "http://{layout.REGISTRY}"\n\n[host."http://{layout.REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n'


def kubelet_config(paths: Layout) -> str:
    pki = paths.pki
    return _json({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": layout.NODE_ADDRESS,
        "port": layout.KUBELET_PORT,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": layout.KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,  # this VM mounts cgroup v1 beside v2
        "failSwapOn": False,
        "clusterDNS": [layout.DNS_SERVICE_ADDRESS],
        "clusterDomain": layout.CLUSTER_DOMAIN,
        # Never the host's resolver: pods with dnsPolicy Default get a file that names no server.
        "resolvConf": str(paths.config / "resolv.conf"),
        # Imported images can never be pulled back: they must not be garbage-collected.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        # Every image is imported, never pulled with credentials: any pod may use what the node holds
        # (the default re-verifies images imported after the kubelet started, i.e. tries to pull them).
        "imagePullCredentialsVerificationPolicy": "NeverVerify",
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "podLogsDir": str(paths.pod_logs),
        "serializeImagePulls": False,
        "shutdownGracePeriod": "0s",
        "rotateCertificates": False,
    })


def kube_proxy_config(paths: Layout) -> str:
    return _json({
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(paths.config / "kube-proxy.kubeconfig")},
        "mode": "nftables",
        "clusterCIDR": layout.POD_CIDR,
        "hostnameOverride": layout.NODE_NAME,
        "healthzBindAddress": f"127.0.0.1:{layout.PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": "127.0.0.1:10249",
        "nodePortAddresses": ["primary"],
        # nf_conntrack_max can be set only from the host's own namespace: leave the sysctls alone.
        "conntrack": {"maxPerCore": 0, "min": 0},
    })


RESOLV_CONF = "# Storefront cluster: no upstream resolver. Cluster names are served by CoreDNS.\noptions timeout:1 attempts:1\n"


def write_configs(paths: Layout, sandbox_image: str) -> None:
    config = paths.config
    (config / "cni").mkdir(parents=True, exist_ok=True)
    registry_dir = config / "registries" / layout.REGISTRY
    registry_dir.mkdir(parents=True, exist_ok=True)
    files = {
        config / "containerd.toml": containerd_config(paths, sandbox_image),
        config / "cni" / "10-storefront.conflist": cni_config(paths),
        registry_dir / "hosts.toml": registry_hosts(),
        config / "kubelet.yaml": kubelet_config(paths),
        config / "kube-proxy.yaml": kube_proxy_config(paths),
        config / "resolv.conf": RESOLV_CONF,
    }
    for client in ("controller-manager", "scheduler", "kubelet", "kube-proxy"):
        files[config / f"{client}.kubeconfig"] = kubeconfig(paths.pki, client)
    for path, text in files.items():
        path.write_text(text)
    for path in config.glob("*.kubeconfig"):
        path.chmod(0o600)


def http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return response.status == 200
    except OSError:
        return False


def admin_context(pki: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return context


def components(paths: Layout, bin_dir: Path) -> list[Component]:
    pki, config = paths.pki, paths.config

    def binary(name: str) -> str:
        return str(bin_dir / name)

    def kubeconfig_of(client: str) -> list[str]:
        file = str(config / f"{client}.kubeconfig")
        return [f"--kubeconfig={file}", f"--authentication-kubeconfig={file}", f"--authorization-kubeconfig={file}"]

    api_ready = lambda: http_ok(f"https://127.0.0.1:{layout.API_PORT}/readyz", admin_context(pki))  # noqa: E731
    etcd_url = f"http://127.0.0.1:{layout.ETCD_PORT}"
    return [
        Component("etcd", [
            binary("etcd"), "--name=storefront", f"--data-dir={paths.etcd_data}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{layout.ETCD_PEER_PORT}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{layout.ETCD_PEER_PORT}",
            f"--initial-cluster=storefront=http://127.0.0.1:{layout.ETCD_PEER_PORT}",
            "--log-level=warn",
        ], lambda: http_ok(f"{etcd_url}/health")),
        Component("kube-apiserver", [
            binary("kube-apiserver"), f"--etcd-servers={etcd_url}",
            "--bind-address=0.0.0.0", f"--advertise-address={layout.NODE_ADDRESS}", f"--secure-port={layout.API_PORT}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'service-account.pub'}",
            f"--service-account-signing-key-file={pki / 'service-account.key'}",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
            # Never resolve the node's name through the machine's resolver.
            "--kubelet-preferred-address-types=InternalIP",
            "--allow-privileged=true", "--profiling=false",
        ], api_ready),
        Component("kube-controller-manager", [
            binary("kube-controller-manager"), *kubeconfig_of("controller-manager"),
            f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
            f"--root-ca-file={pki / 'ca.crt'}", f"--service-account-private-key-file={pki / 'service-account.key'}",
            "--use-service-account-credentials=true", f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
            "--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false",
        ], lambda: True),
        Component("kube-scheduler", [
            binary("kube-scheduler"), *kubeconfig_of("scheduler"),
            "--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false",
        ], lambda: True),
        Component("containerd", [str(CONTAINERD), f"--config={config / 'containerd.toml'}"],
                  lambda: paths.containerd_socket.exists()),
        Component("kubelet", [
            binary("kubelet"), f"--config={config / 'kubelet.yaml'}", f"--kubeconfig={config / 'kubelet.kubeconfig'}",
            f"--root-dir={paths.kubelet_root}", f"--node-ip={layout.NODE_ADDRESS}",
            f"--hostname-override={layout.NODE_NAME}",
        ], lambda: http_ok(f"http://127.0.0.1:{layout.KUBELET_HEALTHZ_PORT}/healthz")),
        Component("kube-proxy", [binary("kube-proxy"), f"--config={config / 'kube-proxy.yaml'}"],
                  lambda: http_ok(f"http://127.0.0.1:{layout.PROXY_HEALTHZ_PORT}/healthz")),
        Component("registry", [
            binary("registry"), f"--address={layout.REGISTRY}", f"--blob-dir={paths.registry_blobs}",
        ], lambda: http_ok(f"http://{layout.REGISTRY}/v2/")),
    ]
