"""The node itself: it runs pods, serves cluster DNS, provisions volumes, and keeps every packet inside
its network namespace."""
from __future__ import annotations

import json
import subprocess
import textwrap

from tests.cluster.conftest import Cluster

PROBE = textwrap.dedent("""
    import json, socket, time

    def timed(action):
        started = time.monotonic()
        try:
            outcome = action()
        except OSError as error:
            outcome = f"{type(error).__name__}: {error}"
        return {"outcome": outcome, "seconds": round(time.monotonic() - started, 3)}

    def connect(address, port):
        socket.create_connection((address, port), timeout=10).close()
        return "connected"

    print(json.dumps({
        "cluster name": timed(lambda: socket.gethostbyname("kubernetes.default.svc.cluster.local")),
        "outside name": timed(lambda: socket.gethostbyname("example.com")),
        "outside address": timed(lambda: connect("93.184.215.14", 443)),
        "the host's end of the veth": timed(lambda: connect("10.213.0.1", 22)),
        "kubernetes service": timed(lambda: connect("kubernetes.default.svc.cluster.local", 443)),
    }))
""")


def host_firewall_counters() -> dict[str, int]:
    """Packets from the namespace that the host's table refused (input) or would have routed on (forward)."""
    table = json.loads(subprocess.run(["nft", "--json", "list", "table", "inet", "storefront_cluster"],
                                      stdout=subprocess.PIPE, text=True, check=True).stdout)
    counters: dict[str, int] = {}
    for item in table["nftables"]:
        rule = item.get("rule")
        if rule:
            for expression in rule["expr"]:
                if "counter" in expression:
                    counters[rule["chain"]] = counters.get(rule["chain"], 0) + expression["counter"]["packets"]
    return counters


def test_the_node_is_ready_and_runs_the_cluster_addons(cluster: Cluster) -> None:
    [node] = cluster.get("nodes")["items"]
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.36.3"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    assert {a["type"]: a["address"] for a in node["status"]["addresses"]}["InternalIP"] == "10.213.0.2"
    for namespace, deployment in (("kube-system", "coredns"), ("traefik", "traefik"),
                                  ("local-path-storage", "local-path-provisioner")):
        status = cluster.get("deployment", deployment, f"--namespace={namespace}")["status"]
        assert status.get("availableReplicas") == 1, (namespace, deployment, status)
    [storage_class] = [c for c in cluster.get("storageclasses")["items"]
                       if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")]
    assert storage_class["provisioner"] == "rancher.io/local-path"


def test_a_volume_claim_is_provisioned_and_keeps_its_data_across_pods(cluster: Cluster) -> None:
    namespace = cluster.namespace("node-volume")
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": namespace},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}}
    cluster.apply(claim)
    volume = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
              "securityContext": {"fsGroup": 65532}, "mounts": {"data": "/data"}}
    base = cluster.image("base")
    writer = cluster.run_pod(namespace, "writer", base, ["sh", "-c", "echo kept > /data/note && cat /data/note"],
                             **volume)
    assert writer == ("Succeeded", "kept\n")
    assert cluster.get("pvc", "data", f"--namespace={namespace}")["status"]["phase"] == "Bound"
    assert cluster.run_pod(namespace, "reader", base, ["cat", "/data/note"], **volume) == ("Succeeded", "kept\n")
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_nothing_leaves_the_namespace_and_outside_lookups_fail_fast(cluster: Cluster) -> None:
    namespace = cluster.namespace("node-network")
    before = host_firewall_counters()
    phase, logs = cluster.run_pod(namespace, "probe", cluster.image("base"), ["python3", "-c", PROBE])
    after = host_firewall_counters()
    assert phase == "Succeeded", logs
    probes = json.loads(logs)
    print(json.dumps(probes, indent=2))
    assert probes["cluster name"]["outcome"] == "10.96.0.1"
    assert probes["kubernetes service"]["outcome"] == "connected"
    # The outside fails at once inside the namespace: no resolver to ask, no route to take.
    assert probes["outside name"]["outcome"].startswith("gaierror"), probes
    assert "Network is unreachable" in probes["outside address"]["outcome"], probes
    assert probes["the host's end of the veth"]["outcome"].startswith(("ConnectionRefusedError", "OSError")), probes
    for name in ("outside name", "outside address", "the host's end of the veth"):
        assert probes[name]["seconds"] < 1.0, (name, probes[name])
    # Nothing was routed through the host; the one attempt on the host itself was refused there.
    assert after.get("forward", 0) == before.get("forward", 0)
    assert after.get("input", 0) - before.get("input", 0) >= 1
    routes = subprocess.run(["nsenter", "--net=/run/netns/storefront", "ip", "route", "show", "default"],
                            stdout=subprocess.PIPE, text=True, check=True).stdout
    assert routes.strip() == "", f"the namespace has a default route: {routes}"
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_pods_that_use_the_nodes_resolver_get_none(cluster: Cluster) -> None:
    namespace = cluster.namespace("node-dns")
    phase, logs = cluster.run_pod(namespace, "resolv", cluster.image("base"), ["cat", "/etc/resolv.conf"],
                                  dnsPolicy="Default")
    assert phase == "Succeeded"
    assert "nameserver" not in logs, logs
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")
