"""Two Storefronts side by side, the embedded development database, and the Events of transitions."""
from __future__ import annotations


import pytest

from conftest import (condition, create_storefront, get_storefront, secret_files, wait_for, wait_provisioned)
from storefront_common.testing.postgres import PostgresServer
from storefront_operator.kube import (DEPLOYMENT, EVENT, PERSISTENT_VOLUME_CLAIM as PVC, SECRET, STATEFUL_SET,
                                      STOREFRONT, Kube)

pytestmark = pytest.mark.usefixtures("shared_operator")


def test_two_storefronts_in_one_namespace_do_not_collide(admin_kube: Kube, namespace: str,
                                                         postgres: PostgresServer) -> None:
    first = create_storefront(admin_kube, namespace, "alpha", postgres)
    second = create_storefront(admin_kube, namespace, "beta", postgres)
    wait_provisioned(admin_kube, namespace, "alpha")
    wait_provisioned(admin_kube, namespace, "beta")
    for storefront in (first, second):
        name, uid = storefront["metadata"]["name"], storefront["metadata"]["uid"]
        deployments = admin_kube.list(DEPLOYMENT, namespace, f"storefront.dev/instance={name}")
        assert {d["metadata"]["name"] for d in deployments} == {f"{name}-{s}" for s in
                                                               ("users", "products", "carts", "orders", "payments")}
        assert all(d["metadata"]["ownerReferences"][0]["uid"] == uid for d in deployments)
    assert secret_files(admin_kube, namespace, "alpha-users-db")["PGPASSWORD"] != \
        secret_files(admin_kube, namespace, "beta-users-db")["PGPASSWORD"]

    admin_kube.delete(STOREFRONT, namespace, "alpha")
    wait_for(lambda: get_storefront(admin_kube, namespace, "alpha") is None, what="alpha deleted")
    assert condition(get_storefront(admin_kube, namespace, "beta"), "DatabasesReady")["status"] == "True"
    assert len(admin_kube.list(DEPLOYMENT, namespace, "storefront.dev/instance=beta")) == 5


def test_embedded_database_runs_the_charts_postgresql(admin_kube: Kube, namespace: str,
                                                      postgres: PostgresServer) -> None:
    create_storefront(admin_kube, namespace, "dev", postgres, admin_secret=False,
                      database={"embedded": {"storageSize": "1Gi"}, "deletionPolicy": "Delete"})
    statefulset = wait_for(lambda: admin_kube.get(STATEFUL_SET, namespace, "dev-postgresql"), what="StatefulSet")
    assert statefulset["metadata"]["ownerReferences"][0]["name"] == "dev"
    item = wait_for(lambda: condition(get_storefront(admin_kube, namespace, "dev"), "DatabasesReady"),
                    what="DatabasesReady reported")
    assert item["status"] == "False" and item["reason"] == "EmbeddedServerNotReady"
    login = secret_files(admin_kube, namespace, "dev-users-db")
    admin_password = secret_files(admin_kube, namespace, "dev-postgresql-admin")["password"]
    assert login["DATABASE_URL"] == f"postgresql://storefront:{admin_password}@dev-postgresql:5432/storefront_users" \
                                    "?sslmode=disable"

    admin_kube._request("PATCH", STATEFUL_SET.object_path(namespace, "dev-postgresql") + "/status",
                        body={"status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}},
                        content_type="application/merge-patch+json")
    wait_for(lambda: condition(get_storefront(admin_kube, namespace, "dev"), "DatabasesReady").get("status") == "True",
             what="DatabasesReady after the StatefulSet is ready")
    assert admin_kube.get(SECRET, namespace, "dev-db-admin") is None

    # deletionPolicy Delete: the development server's volume claim goes too (the StatefulSet would leave it).
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-dev-postgresql-0"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    admin_kube.create(PVC, namespace, claim)
    admin_kube.delete(STOREFRONT, namespace, "dev")
    wait_for(lambda: get_storefront(admin_kube, namespace, "dev") is None, what="dev deleted")
    claim_left = admin_kube.get(PVC, namespace, "data-dev-postgresql-0")
    assert claim_left is None or claim_left["metadata"].get("deletionTimestamp")


def test_transitions_are_recorded_as_events(admin_kube: Kube, namespace: str, postgres: PostgresServer) -> None:
    create_storefront(admin_kube, namespace, "loud", postgres)
    wait_provisioned(admin_kube, namespace, "loud")

    def reasons() -> set[str]:
        events = admin_kube.list(EVENT, namespace, "")
        return {event["reason"] for event in events if event["involvedObject"]["name"] == "loud"}

    expected = {"Provisioned", "ReplicasNotReady", "PhaseProvisioning"}
    seen: set[str] = set()

    def all_seen() -> bool:
        seen.update(reasons())
        return expected <= seen

    wait_for(all_seen, what=f"Events {expected}", timeout=30)
