"""Several operator replicas in a kopf peering, as the chart runs them with peering.enabled: the oldest
works, the others wait, and one of them takes over when it stops."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf
import yaml

from tests.operator.conftest import (OPERATOR_ACCOUNT, OPERATOR_CHART, OPERATOR_NAMESPACE, OperatorProcess, apply_crds,
                      create_storefront, new_namespace, patch_storefront, wait_for, wait_provisioned)
from storefront_common.testing.postgres import PostgresServer
from storefront_operator.kube import DEPLOYMENT, Kube, ResourceKind

PEERING = "storefront-operator"
NAME = "peered"  # databases are named after the Storefront: unique on the shared server
KOPF_PEERING = ResourceKind("kopf.dev/v1", "KopfPeering", "kopfpeerings")
PEERING_RBAC_KINDS = ("Role", "RoleBinding", "KopfPeering")
PEERING_LIFETIME_S = kopf.OperatorSettings().peering.lifetime  # the operator keeps kopf's default


def install_peering(kubectl: Any, helm: Any, namespace: str) -> None:
    """kopf's peering CRDs, then the chart's Role (with kopfpeerings) and KopfPeering for the namespace."""
    apply_crds(kubectl, OPERATOR_CHART / "crds" / "kopf-peering.yaml", "kopfpeerings.kopf.dev",
               "clusterkopfpeerings.kopf.dev")
    rendered = helm("template", OPERATOR_ACCOUNT, str(OPERATOR_CHART), "--namespace", OPERATOR_NAMESPACE,
                    "--set", "peering.enabled=true", "--set", f"watch.namespaces={{{namespace}}}")
    assert rendered.returncode == 0, rendered.stderr
    wanted = [doc for doc in yaml.safe_load_all(rendered.stdout)
              if doc and doc["kind"] in PEERING_RBAC_KINDS and doc["metadata"].get("namespace") == namespace]
    assert sorted(doc["kind"] for doc in wanted) == sorted(PEERING_RBAC_KINDS)
    result = kubectl("apply", "-f", "-", input=yaml.safe_dump_all(wanted))
    assert result.returncode == 0, result.stderr


def peers(admin_kube: Kube, namespace: str) -> dict[str, Any]:
    return (admin_kube.get(KOPF_PEERING, namespace, PEERING) or {}).get("status") or {}


def users_replicas(admin_kube: Kube, namespace: str) -> int | None:
    return ((admin_kube.get(DEPLOYMENT, namespace, f"{NAME}-users") or {}).get("spec") or {}).get("replicas")


def test_two_replicas_in_a_peering_one_works_and_the_other_takes_over(
        admin_kube: Kube, postgres: PostgresServer, operator_factory: Callable[..., OperatorProcess],
        kubectl: Any, helm: Any) -> None:
    namespace = new_namespace(admin_kube, "peers")
    install_peering(kubectl, helm, namespace)
    first = operator_factory(namespace, peering=PEERING)
    wait_for(lambda: len(peers(admin_kube, namespace)) == 1, timeout=30, what="the first replica's record")
    second = operator_factory(namespace, peering=PEERING)
    wait_for(lambda: len(peers(admin_kube, namespace)) == 2, timeout=30, what="both replicas' records")
    priorities = sorted(peer["priority"] for peer in peers(admin_kube, namespace).values())
    assert priorities[0] != priorities[1]

    create_storefront(admin_kube, namespace, NAME, postgres)
    wait_provisioned(admin_kube, namespace, NAME, timeout=60)
    # kopf starts every replica paused; only the one no live peer outranks resumes and works.
    assert "Resuming operations" in first.log() and "applying" in first.log()
    assert "Resuming operations" not in second.log() and "applying" not in second.log()
    assert not any("Possibly conflicting operators" in operator.log() for operator in (first, second))

    first.stop()
    # A stopping replica removes its record at once. One that is killed, or whose single removal attempt
    # is lost while it shuts down, leaves the record to expire after its lifetime: the second resumes then.
    wait_for(lambda: "Resuming operations" in second.log(), timeout=PEERING_LIFETIME_S + 15,
             what="the second replica resuming")
    patch_storefront(admin_kube, namespace, NAME, {"spec": {"services": {"users": {"replicas": 3}}}})
    wait_for(lambda: users_replicas(admin_kube, namespace) == 3, timeout=60, what="users scaled by the second")
    second.assert_running()
