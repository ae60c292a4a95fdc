"""Specs that pass the schema but cannot work, and a database server that is down: clear conditions,
retries with backoff, no crash, and recovery without anyone touching the Storefront."""
from __future__ import annotations

import time
from typing import Any

import psycopg2
import pytest

from tests.operator.conftest import (DRIFT_CHECK_INTERVAL_S, OperatorProcess, patch_storefront, secret_files, condition, create_storefront, get_storefront, secret_manifest, wait_for,
                      wait_provisioned)
from storefront_common.testing.postgres import PostgresServer
from storefront_operator.kube import DEPLOYMENT, SECRET, Kube


def wait_condition(admin_kube: Kube, namespace: str, name: str, kind: str, status: str, reason: str,
                   timeout: float = 20.0) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        item = condition(get_storefront(admin_kube, namespace, name), kind)
        return item if item.get("status") == status and item.get("reason") == reason else None

    return wait_for(matches, timeout=timeout, what=f"{kind}={status} ({reason})")


def test_database_server_down_at_creation_then_back(admin_kube: Kube, namespace: str,
                                                    shared_operator: OperatorProcess) -> None:
    server = PostgresServer(auth="scram-sha-256")  # initialised and started only later
    try:
        create_storefront(admin_kube, namespace, "late", server)
        item = wait_condition(admin_kube, namespace, "late", "DatabasesReady", "False", "ServerUnreachable")
        assert f"127.0.0.1:{server.port}" in item["message"] and "cannot connect" in item["message"]
        current = get_storefront(admin_kube, namespace, "late")
        assert current["status"]["phase"] == "Degraded"
        assert condition(current, "WorkloadsReady")["reason"] == "Blocked"
        shared_operator.assert_running()

        server.start()
        wait_provisioned(admin_kube, namespace, "late", timeout=30)  # nobody touched the Storefront
    finally:
        server.stop()


def test_admin_secret_without_password_key(admin_kube: Kube, namespace: str, postgres: PostgresServer,
                                           shared_operator: OperatorProcess) -> None:
    admin_kube.create(SECRET, namespace, secret_manifest(namespace, "nokey-db-admin", {"username": "postgres"}))
    create_storefront(admin_kube, namespace, "nokey", postgres, admin_secret=False)
    item = wait_condition(admin_kube, namespace, "nokey", "DatabasesReady", "False", "AdminSecretInvalid")
    assert "nokey-db-admin" in item["message"] and "password" in item["message"]
    shared_operator.assert_running()

    admin_kube.delete(SECRET, namespace, "nokey-db-admin")
    admin_kube.create(SECRET, namespace, secret_manifest(
        namespace, "nokey-db-admin", {"username": "postgres", "password": postgres.admin_password}))
    wait_provisioned(admin_kube, namespace, "nokey", timeout=30)


def test_missing_paystack_secret(admin_kube: Kube, namespace: str, postgres: PostgresServer,
                                 shared_operator: OperatorProcess) -> None:
    create_storefront(admin_kube, namespace, "nopay", postgres, paystack_secret=False)
    item = wait_condition(admin_kube, namespace, "nopay", "SecretsReady", "False", "PaystackSecretMissing")
    assert "nopay-paystack" in item["message"] and "does not exist" in item["message"]
    current = get_storefront(admin_kube, namespace, "nopay")
    assert current["status"]["phase"] == "Degraded"
    assert condition(current, "Ready")["status"] == "False"
    shared_operator.assert_running()

    admin_kube.create(SECRET, namespace, secret_manifest(namespace, "nopay-paystack", {"other": "x"}))
    wait_condition(admin_kube, namespace, "nopay", "SecretsReady", "False", "PaystackSecretKeyMissing", timeout=30)
    assert "sk_" not in str(get_storefront(admin_kube, namespace, "nopay"))


@pytest.mark.usefixtures("shared_operator")
def test_paused_storefront_is_left_alone(admin_kube: Kube, namespace: str, postgres: PostgresServer) -> None:
    create_storefront(admin_kube, namespace, "still", postgres, paused=True)
    time.sleep(2 * DRIFT_CHECK_INTERVAL_S)
    assert admin_kube.get(SECRET, namespace, "still-signing-key") is None
    assert not (get_storefront(admin_kube, namespace, "still") or {}).get("status")

    patch_storefront(admin_kube, namespace, "still", {"spec": {"paused": False}})
    wait_provisioned(admin_kube, namespace, "still")
    patch_storefront(admin_kube, namespace, "still", {"spec": {"paused": True, "services": {"users": {"replicas": 5}}}})
    time.sleep(2 * DRIFT_CHECK_INTERVAL_S)
    assert admin_kube.get(DEPLOYMENT, namespace, "still-users")["spec"]["replicas"] == 2


@pytest.mark.usefixtures("shared_operator")
def test_foreign_objects_of_the_same_name_are_never_taken_over(admin_kube: Kube, namespace: str,
                                                               postgres: PostgresServer) -> None:
    foreign = secret_manifest(namespace, "clash-users-db", {"PGPASSWORD": "someone-elses"})
    foreign["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "elsewhere",
                                              "uid": "00000000-0000-0000-0000-000000000001", "controller": True}]
    admin_kube.create(SECRET, namespace, foreign)
    connection = psycopg2.connect(postgres.admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE clash_orders")
        cursor.execute("COMMENT ON DATABASE clash_orders IS 'storefront.dev other/clash'")
    connection.close()
    create_storefront(admin_kube, namespace, "clash", postgres)
    item = wait_condition(admin_kube, namespace, "clash", "SecretsReady", "False", "NameConflict")
    assert "clash-users-db" in item["message"] and "ConfigMap elsewhere" in item["message"]
    assert secret_files(admin_kube, namespace, "clash-users-db") == {"PGPASSWORD": "someone-elses"}

    admin_kube.delete(SECRET, namespace, "clash-users-db")
    item = wait_condition(admin_kube, namespace, "clash", "DatabasesReady", "False", "DatabaseConflict", timeout=30)
    assert "clash_orders" in item["message"] and "other/clash" in item["message"]
