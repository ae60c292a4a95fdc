"""Restart mid-reconcile, deletion under both policies, and an idle operator that writes nothing."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.operator.conftest import (SERVICE_NAMES, DRIFT_CHECK_INTERVAL_S, OperatorProcess, operator_requests, create_storefront, existing_databases, existing_roles, get_storefront,
                      mark_deployments_ready, new_namespace, operator_writes, secret_files, wait_for,
                      wait_provisioned, wait_ready)
from storefront_common.testing.postgres import PostgresServer
from storefront_dev.controlplane import ControlPlane
from storefront_operator.kube import EVENT, SECRET, STOREFRONT, Kube

IDLE_SECONDS = int(os.environ.get("STOREFRONT_TEST_IDLE_SECONDS", "60"))
DDL = re.compile(r"statement: (CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT)", re.IGNORECASE)


def test_killed_mid_reconcile_converges_without_duplicates(
        admin_kube: Kube, postgres: PostgresServer, operator_factory: Callable[..., OperatorProcess]) -> None:
    namespace = new_namespace(admin_kube, "restart")
    operator = operator_factory(namespace)
    names = ["r1", "r2", "r3"]
    for name in names:
        create_storefront(admin_kube, namespace, name, postgres)
    # Kill as soon as the first Secret exists: the reconcile is under way, not finished.
    wait_for(lambda: admin_kube.list(SECRET, namespace, "storefront.dev/instance"), interval=0.02, what="first Secret")
    operator.kill()
    keys_at_kill = {name: secret_files(admin_kube, namespace, f"{name}-signing-key")["private.pem"]
                    for name in names if admin_kube.get(SECRET, namespace, f"{name}-signing-key")}
    assert keys_at_kill, "killed before any signing key existed"
    assert not all(len(existing_databases(postgres, f"{name}_")) == len(SERVICE_NAMES) for name in names), "killed too late"

    # Restarted the way the image runs it (kopf run --module=storefront_operator).
    operator = operator_factory(namespace, kopf_run=True)
    for name in names:
        wait_provisioned(admin_kube, namespace, name, timeout=30)
        assert existing_databases(postgres, f"{name}_") == sorted(f"{name}_{s}" for s in SERVICE_NAMES)
        assert len(existing_roles(postgres, f"{name}_")) == len(SERVICE_NAMES)
    for name, private_key in keys_at_kill.items():
        assert secret_files(admin_kube, namespace, f"{name}-signing-key")["private.pem"] == private_key
    operator.assert_running()


@pytest.mark.parametrize("policy", ["Retain", "Delete"])
def test_delete_respects_deletion_policy(admin_kube: Kube, namespace: str, postgres: PostgresServer,
                                         policy: str) -> None:
    name = f"del{policy.lower()}"
    create_storefront(admin_kube, namespace, name, postgres,
                      database={"server": {"host": "127.0.0.1", "port": postgres.port, "sslMode": "disable",
                                           "adminSecretRef": {"name": f"{name}-db-admin"}},
                                "deletionPolicy": policy})
    current = wait_provisioned(admin_kube, namespace, name)
    assert "storefront.dev/finalizer" in current["metadata"]["finalizers"]
    assert len(existing_databases(postgres, f"{name}_")) == len(SERVICE_NAMES)

    admin_kube.delete(STOREFRONT, namespace, name)
    wait_for(lambda: get_storefront(admin_kube, namespace, name) is None, what="finalizer removed, Storefront gone")
    if policy == "Retain":
        assert len(existing_databases(postgres, f"{name}_")) == len(SERVICE_NAMES)
        assert len(existing_roles(postgres, f"{name}_")) == len(SERVICE_NAMES)
    else:
        assert existing_databases(postgres, f"{name}_") == []
        assert existing_roles(postgres, f"{name}_") == []


def test_idle_operator_writes_nothing(admin_kube: Kube, postgres: PostgresServer, control_plane: ControlPlane,
                                      operator_factory: Callable[..., OperatorProcess]) -> None:
    namespace = new_namespace(admin_kube, "idle")
    operator = operator_factory(namespace)
    create_storefront(admin_kube, namespace, "calm", postgres)
    wait_provisioned(admin_kube, namespace, "calm")
    mark_deployments_ready(admin_kube, namespace, "calm")
    wait_ready(admin_kube, namespace, "calm")
    time.sleep(3)  # let the last watch events settle

    audit_log = Path(control_plane.audit_log_path)
    audit_offset = audit_log.stat().st_size
    postgres_log_offset = postgres.log_path.stat().st_size
    log_offset = len(operator.log())
    time.sleep(IDLE_SECONDS)

    writes = operator_writes(audit_log, audit_offset, namespace)
    applied = [line for line in operator.log().splitlines() if "applying" in line][-10:]
    assert writes == [], "\n".join(applied)
    with open(postgres.log_path, "rb") as handle:
        handle.seek(postgres_log_offset)
        ddl = [line for line in handle.read().decode(errors="replace").splitlines() if DDL.search(line)]
    assert ddl == []
    # The drift check did run meanwhile: it read the children and ran its timer, without complaint.
    assert operator_requests(audit_log, audit_offset, namespace, ("get", "list"))
    # Children are filtered by label on the API server: no stream of every Secret in the cluster.
    secret_watches = [uri for uri in operator_requests(audit_log, 0, namespace, ("watch",)) if "/secrets" in uri]
    assert secret_watches and all("labelSelector=storefront.dev/instance" in uri for uri in secret_watches)
    timer_runs = operator.log()[log_offset:].count("Timer 'check_drift' succeeded")
    assert timer_runs >= IDLE_SECONDS // DRIFT_CHECK_INTERVAL_S - 2
    operator.assert_running()
    assert "Traceback" not in operator.log()


def test_delete_gives_up_on_dropping_after_retries(admin_kube: Kube, namespace: str,
                                                   postgres: PostgresServer) -> None:
    create_storefront(admin_kube, namespace, "orphan", postgres)
    wait_provisioned(admin_kube, namespace, "orphan")
    # As in a namespace deletion: the admin Secret may go before the finalizer runs.
    admin_kube.delete(SECRET, namespace, "orphan-db-admin")
    admin_kube.delete(STOREFRONT, namespace, "orphan")
    wait_for(lambda: get_storefront(admin_kube, namespace, "orphan") is None, timeout=90,
             what="the finalizer giving up")
    warnings = [event for event in admin_kube.list(EVENT, namespace, "")
                if event["reason"] == "DatabasesNotDropped" and event["involvedObject"]["name"] == "orphan"]
    assert warnings and "orphan-db-admin" in warnings[0]["message"]
    assert len(existing_databases(postgres, "orphan_")) == len(SERVICE_NAMES)  # left behind, and said so
