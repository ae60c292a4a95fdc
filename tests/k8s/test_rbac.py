"""The operator's RBAC, applied for real, checked by impersonating its ServiceAccount:
everything the operator needs, nothing more."""
from __future__ import annotations

import pytest

from tests.k8s.k8s_support import OPERATOR_CHART, check

# (verb, resource[, subresource]) the operator needs in every namespace it watches.
NEEDED_IN_WATCHED = [
    *[(verb, "storefronts.storefront.dev") for verb in ("get", "list", "watch", "patch", "update")],
    ("patch", "storefronts.storefront.dev", "status"),
    ("update", "storefronts.storefront.dev", "finalizers"),
    *[(verb, resource)
      for resource in ("secrets", "services", "serviceaccounts", "configmaps", "persistentvolumeclaims",
                       "deployments.apps", "statefulsets.apps", "horizontalpodautoscalers.autoscaling",
                       "poddisruptionbudgets.policy", "ingresses.networking.k8s.io",
                       "networkpolicies.networking.k8s.io", "jobs.batch", "cronjobs.batch")
      for verb in ("get", "list", "watch", "create", "patch", "delete")],
    ("create", "events"), ("patch", "events"), ("create", "events.events.k8s.io"),
]
# Only when watching every namespace (kopf then follows the CRDs); a namespaced install has no cluster-scoped grant.
CRD_READS = [(verb, "customresourcedefinitions.apiextensions.k8s.io") for verb in ("get", "list", "watch")]
# Never, anywhere.
FORBIDDEN_EVERYWHERE = [
    ("*", "*"), ("create", "clusterroles.rbac.authorization.k8s.io"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"), ("delete", "namespaces"), ("create", "namespaces"),
    ("create", "customresourcedefinitions.apiextensions.k8s.io"), ("get", "nodes"),
    ("escalate", "clusterroles.rbac.authorization.k8s.io"), ("impersonate", "serviceaccounts"),
]
FORBIDDEN_IN_WATCHED = [
    ("create", "roles.rbac.authorization.k8s.io"), ("create", "rolebindings.rbac.authorization.k8s.io"),
    ("create", "pods", "exec"), ("create", "pods"), ("delete", "storefronts.storefront.dev"),
    ("create", "storefronts.storefront.dev"), ("*", "secrets"), ("deletecollection", "secrets"),
]


def can(kubectl, subject: str, verb: str, resource: str, subresource: str = "", namespace: str | None = None) -> bool:
    args = ["auth", "can-i", verb, resource, f"--as={subject}"]
    args += [f"--subresource={subresource}"] if subresource else []
    args += ["-n", namespace] if namespace else ["--all-namespaces"]
    result = kubectl(*args)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"


@pytest.fixture(scope="module")
def install(helm, kubectl, namespace, storefront_crd):
    def run(release: str, operator_namespace: str, *values: str) -> str:
        namespace(operator_namespace)
        rendered = check(helm("template", release, str(OPERATOR_CHART), "--namespace", operator_namespace, *values))
        check(kubectl("apply", "-f", "-", input=rendered))
        return f"system:serviceaccount:{operator_namespace}:{release}-storefront-operator"

    return run


def test_namespaced_operator_is_confined_to_its_namespaces(install, kubectl, namespace):
    watched, other = namespace("rbac-shop"), namespace("rbac-other")
    subject = install("op", "rbac-op", "--set", f"watch.namespaces={{{watched}}}")
    missing = [need for need in NEEDED_IN_WATCHED if not can(kubectl, subject, *need, namespace=watched)]
    assert not missing, f"the operator cannot {missing} in {watched}"
    assert not any(can(kubectl, subject, *read) for read in CRD_READS)
    granted = [what for what in FORBIDDEN_IN_WATCHED + FORBIDDEN_EVERYWHERE
               if can(kubectl, subject, *what, namespace=watched)]
    assert not granted, f"the operator may {granted} in {watched}"
    for verb in ("get", "list", "create", "delete"):
        assert not can(kubectl, subject, verb, "secrets", namespace=other), f"{verb} secrets in {other}"
        assert not can(kubectl, subject, verb, "secrets"), f"{verb} secrets cluster-wide"
    assert not can(kubectl, subject, "create", "deployments.apps", namespace=other)
    assert not can(kubectl, subject, "list", "storefronts.storefront.dev", namespace=other)
    assert not can(kubectl, subject, "list", "namespaces")  # only needed when watching every namespace
    assert not can(kubectl, subject, "get", "secrets", namespace="rbac-op")  # not even its own namespace


def test_cluster_wide_operator_gets_the_same_verbs_everywhere_and_no_more(install, kubectl, namespace):
    anywhere = namespace("rbac-anywhere")
    subject = install("opall", "rbac-op-all", "--set", "watch.allNamespaces=true", "--set", "peering.enabled=true",
                      "--set", "replicas=2")
    missing = [need for need in NEEDED_IN_WATCHED if not can(kubectl, subject, *need, namespace=anywhere)]
    assert not missing, f"the operator cannot {missing}"
    assert can(kubectl, subject, "list", "namespaces") and can(kubectl, subject, "watch", "namespaces")
    assert all(can(kubectl, subject, *read) for read in CRD_READS)
    assert can(kubectl, subject, "patch", "clusterkopfpeerings.kopf.dev")
    assert can(kubectl, subject, "patch", "kopfpeerings.kopf.dev", namespace=anywhere)
    granted = [what for what in FORBIDDEN_IN_WATCHED + FORBIDDEN_EVERYWHERE
               if can(kubectl, subject, *what, namespace=anywhere)]
    assert not granted, f"the operator may {granted}"
    assert not can(kubectl, subject, "delete", "namespaces")
    assert not can(kubectl, subject, "create", "clusterroles.rbac.authorization.k8s.io")
