"""The Storefront CRD: installs, defaults, and the API server rejects what cannot work."""
from __future__ import annotations

import copy
import json

import pytest

from tests.k8s.k8s_support import CRD, OPERATOR_CHART, REPO, check, documents

SAMPLES = REPO / "k8s" / "samples"
VALID = {
    "apiVersion": "storefront.dev/v1alpha1",
    "kind": "Storefront",
    "metadata": {"name": "probe"},
    "spec": {
        "version": "0.1.0",
        "imageRegistry": "registry.example.com/storefront",
        "services": {"users": {"replicas": 2},
                     "products": {"replicas": 2, "autoscaling": {"minReplicas": 2, "maxReplicas": 10}}},
        "database": {"server": {"host": "db.example.com", "port": 5432, "sslMode": "require",
                                "adminSecretRef": {"name": "db-admin"}}},
        "payments": {"paystack": {"secretKeyRef": {"name": "paystack", "key": "secretKey"}}},
    },
}


def storefront(**changes) -> dict:
    """VALID with changes given as dotted paths; a value of None deletes the key."""
    resource = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = resource
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return resource


def create(kubectl, namespace: str, resource: dict, dry_run: bool = True):
    args = ["create", "-n", namespace, "-f", "-", "-o", "json"] + (["--dry-run=server"] if dry_run else [])
    return kubectl(*args, input=json.dumps(resource))


def test_operator_chart_carries_the_same_crd():
    assert (OPERATOR_CHART / "crds" / "storefront.yaml").read_bytes() == CRD.read_bytes()


def test_crd_installs_with_names_and_columns(kubectl, storefront_crd):
    crd = json.loads(check(kubectl("get", "crd", "storefronts.storefront.dev", "-o", "json")))
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["shortNames"] == ["sf"]
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == ["Phase", "Ready", "URL", "Age"]
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"


def test_defaults_are_filled_in(kubectl, namespace, storefront_crd):
    ns = namespace("crd-defaults")
    created = json.loads(check(create(kubectl, ns, VALID)))
    spec = created["spec"]
    assert spec["database"]["deletionPolicy"] == "Retain"
    assert spec["auth"] == {"accessTokenTTL": "15m", "refreshTokenTTL": "720h"}
    assert spec["payments"]["currency"] == "NGN" and spec["payments"]["platformFeeBps"] == 0
    assert spec["payments"]["paystack"]["baseURL"] == "https://api.paystack.co"
    assert spec["paused"] is False
    assert spec["services"]["products"]["autoscaling"]["targetCPUUtilizationPercentage"] == 70


def test_verify_full_is_accepted_with_a_ca_certificate(kubectl, namespace, storefront_crd):
    resource = storefront(**{"spec.database.server.sslMode": "verify-full",
                             "spec.database.server.caCertificate": {"configMapRef": {"name": "rds-ca-bundle"}}})
    created = json.loads(check(create(kubectl, namespace("crd-ca"), resource)))
    assert created["spec"]["database"]["server"]["caCertificate"] == {"configMapRef": {"name": "rds-ca-bundle"},
                                                                      "key": "ca.crt"}


def test_samples_are_accepted(kubectl, namespace, storefront_crd):
    namespace("shop")  # the namespace the samples name
    for sample in (SAMPLES / "minimal.yaml", SAMPLES / "eks.yaml"):
        check(kubectl("apply", "-f", str(sample)))
    dev = namespace("sample-dev")
    check(kubectl("apply", "-n", dev, "-f", str(SAMPLES / "dev" / "storefront.yaml")))
    listed = check(kubectl("get", "sf", "-A", "--no-headers"))
    assert {line.split()[1] for line in listed.splitlines()} >= {"minimal", "acme", "dev"}
    for sample in (SAMPLES / "minimal.yaml", SAMPLES / "eks.yaml"):
        for doc in documents(sample.read_text()):
            if doc["kind"] == "Secret":
                assert all("PLACEHOLDER" in value or "storefront_admin" in value for value in doc["stringData"].values())


def test_namespace_manifest_enforces_restricted(kubectl):
    (namespace,) = documents((REPO / "k8s" / "namespace.yaml").read_text())
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    check(kubectl("apply", "--dry-run=server", "-f", str(REPO / "k8s" / "namespace.yaml")))


def test_status_subresource_takes_phase_and_conditions(kubectl, namespace, storefront_crd):
    ns = namespace("crd-status")
    check(create(kubectl, ns, storefront(**{"metadata.name": "status"}), dry_run=False))
    status = {"status": {"phase": "Ready", "url": "https://shop.example.com", "observedGeneration": 1,
                         "conditions": [{"type": "Ready", "status": "True", "reason": "AllReady", "message": "",
                                         "lastTransitionTime": "2026-11-24T19:12:31Z", "observedGeneration": 1}]}}
    check(kubectl("patch", "-n", ns, "storefront/status", "--subresource=status", "--type=merge",
                  "-p", json.dumps(status)))
    row = check(kubectl("get", "-n", ns, "sf", "status", "--no-headers")).split()
    assert row[1:4] == ["Ready", "True", "https://shop.example.com"]
    bad = {"status": {"phase": "Exploded"}}
    result = kubectl("patch", "-n", ns, "storefront/status", "--subresource=status", "--type=merge", "-p", json.dumps(bad))
    assert result.returncode != 0 and "status.phase" in result.stderr


@pytest.mark.parametrize(("case", "changes", "messages"), [
    ("negative replicas", {"spec.services.users.replicas": -1},
     ["spec.services.users.replicas", "greater than or equal to 0"]),
    ("minReplicas > maxReplicas", {"spec.services.products.autoscaling": {"minReplicas": 5, "maxReplicas": 2}},
     ["minReplicas must not exceed", "maxReplicas"]),
    ("unknown service key", {"spec.services.billing": {"replicas": 1}}, ['unknown field "spec.services.billing"']),
    ("both server and embedded", {"spec.database.embedded": {"storageSize": "1Gi"}},
     ["exactly one of database.server or database.embedded"]),
    ("neither server nor embedded", {"spec.database": {"deletionPolicy": "Delete"}},
     ["exactly one of database.server or database.embedded"]),
    ("bad sslMode", {"spec.database.server.sslMode": "sometimes"}, ["spec.database.server.sslMode", "Unsupported value"]),
    ("verify-full without caCertificate", {"spec.database.server.sslMode": "verify-full"},
     ["spec.database.server.caCertificate", "caCertificate is required when sslMode is verify-ca or verify-full"]),
    ("verify-ca without caCertificate", {"spec.database.server.sslMode": "verify-ca"},
     ["spec.database.server.caCertificate", "caCertificate is required when sslMode is verify-ca or verify-full"]),
    ("caCertificate without a ConfigMap", {"spec.database.server.caCertificate": {"key": "ca.crt"}},
     ["spec.database.server.caCertificate.configMapRef", "Required value"]),
    ("bad deletionPolicy", {"spec.database.deletionPolicy": "Shred"}, ["spec.database.deletionPolicy", "Unsupported value"]),
    ("bad currency", {"spec.payments.currency": "EUR"}, ["spec.payments.currency", "Unsupported value"]),
    ("port 70000", {"spec.database.server.port": 70000}, ["spec.database.server.port", "less than or equal to 65535"]),
    ("port 0", {"spec.database.server.port": 0}, ["spec.database.server.port", "greater than or equal to 1"]),
    ("platformFeeBps 10001", {"spec.payments.platformFeeBps": 10001},
     ["spec.payments.platformFeeBps", "less than or equal to 10000"]),
    ("TTL not a duration", {"spec.auth": {"accessTokenTTL": "15 minutes"}}, ["spec.auth.accessTokenTTL", "should match"]),
    ("no database", {"spec.database": None}, ["spec.database", "Required value"]),
])
def test_api_server_rejects(kubectl, namespace, storefront_crd, case, changes, messages):
    result = create(kubectl, namespace("crd-invalid"), storefront(**changes))
    assert result.returncode != 0, f"{case}: accepted"
    for message in messages:
        assert message in result.stderr, f"{case}: {result.stderr}"
