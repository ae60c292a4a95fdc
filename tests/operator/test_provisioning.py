"""Apply a Storefront: Secrets, databases and children appear, owned and wired; readiness follows the Deployments."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import psycopg2
import pytest

from tests.operator.conftest import (SERVICE_NAMES, condition, connect_as, create_storefront, existing_databases, get_storefront,
                      mark_deployments_ready, secret_files, wait_for)
from storefront_operator.kube import DEPLOYMENT, INGRESS, JOB, SECRET, Kube
from storefront_operator.settings import SERVICE_CLIENT_NAMES

pytestmark = pytest.mark.usefixtures("shared_operator")


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])}


def test_apply_creates_secrets_databases_and_owned_children(admin_kube: Kube, namespace: str, postgres: Any,
                                                             shared_operator: Any) -> None:
    storefront = create_storefront(admin_kube, namespace, "acme", postgres)
    uid = storefront["metadata"]["uid"]

    def provisioned() -> dict[str, Any] | None:
        current = get_storefront(admin_kube, namespace, "acme")
        ready = condition(current, "SecretsReady").get("status") == "True" and \
            condition(current, "DatabasesReady").get("status") == "True" and \
            len(admin_kube.list(DEPLOYMENT, namespace, "storefront.dev/instance=acme")) == len(SERVICE_NAMES)
        return current if ready else None

    current = wait_for(provisioned, timeout=20, what="Secrets, databases and Deployments")

    deployments = {d["metadata"]["name"]: d for d in admin_kube.list(DEPLOYMENT, namespace, "storefront.dev/instance=acme")}
    assert sorted(deployments) == sorted(f"acme-{service}" for service in SERVICE_NAMES)
    for deployment in deployments.values():
        owners = deployment["metadata"]["ownerReferences"]
        assert owners == [{"apiVersion": "storefront.dev/v1alpha1", "kind": "Storefront", "name": "acme",
                           "uid": uid, "controller": True, "blockOwnerDeletion": True}]
    assert deployments["acme-users"]["spec"]["replicas"] == 2
    assert deployments["acme-orders"]["spec"]["replicas"] == 1
    assert deployments["acme-carts"]["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example.com/storefront/carts:0.1.0"
    # Finished migration Jobs are kept: one deleted by a TTL would come back as drift and run again.
    jobs = wait_for(lambda: admin_kube.list(JOB, namespace, "storefront.dev/instance=acme") or None, what="Jobs")
    assert jobs and all("ttlSecondsAfterFinished" not in job["spec"] for job in jobs)

    # The environment: Secrets by reference only; the Paystack key by secretKeyRef, never a value.
    payments_env = env_of(deployments["acme-payments"])
    assert payments_env["PAYSTACK_SECRET_KEY"] == {"secretKeyRef": {"name": "acme-paystack", "key": "secretKey"}}
    assert env_of(deployments["acme-users"])["JWT_ISSUER"] == "https://acme.shop.example"
    env_from = deployments["acme-orders"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "acme-orders-db"}} in env_from
    assert {"secretRef": {"name": "acme-orders-client"}} in env_from
    users_env_from = deployments["acme-users"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "acme-admin"}} in users_env_from
    admin_account = secret_files(admin_kube, namespace, "acme-admin")
    assert admin_account["STOREFRONT_ADMIN_EMAIL"] == "admin@acme.shop.example"
    assert len(admin_account["STOREFRONT_ADMIN_PASSWORD"]) >= 32
    serialized = json.dumps([current, *deployments.values()])
    assert "sk_test_never_copied" not in serialized
    assert "sk_test_never_copied" not in shared_operator.log() and postgres.admin_password not in shared_operator.log()

    # Secrets: owned, and the users service holds every service client's hash, and none of web's (it calls
    # the others with its users' tokens only: no service token for it).
    clients = {service: secret_files(admin_kube, namespace, f"acme-{service}-client")["SERVICE_CLIENT_SECRET"]
               for service in SERVICE_NAMES}
    users_clients = secret_files(admin_kube, namespace, "acme-users-client")["SERVICE_CLIENTS"]
    for service, secret in clients.items():
        hashed = f"{service}:{hashlib.sha256(secret.encode()).hexdigest()}"
        assert (hashed in users_clients.split(",")) == (service in SERVICE_CLIENT_NAMES)
    assert "web" in SERVICE_NAMES and "web" not in SERVICE_CLIENT_NAMES
    signing = secret_files(admin_kube, namespace, "acme-signing-key")
    assert signing["private.pem"].startswith("-----BEGIN PRIVATE KEY-----")
    jwks = json.loads(signing["jwks.json"])
    assert [key["kid"] for key in jwks["keys"]] == [current["status"]["signingKeys"]["activeKid"]]
    for secret in admin_kube.list(SECRET, namespace, "storefront.dev/instance=acme"):
        assert secret["metadata"]["ownerReferences"][0]["uid"] == uid

    # Databases: each service's credentials work on its own database and nowhere else.
    assert existing_databases(postgres, "acme_") == sorted(f"acme_{service}" for service in SERVICE_NAMES)
    logins = {service: secret_files(admin_kube, namespace, f"acme-{service}-db") for service in SERVICE_NAMES}
    for service, login in logins.items():
        assert login["DATABASE_URL"].startswith(f"postgresql://acme_{service}:")
        with connect_as(postgres, login["PGUSER"], login["PGPASSWORD"], login["PGDATABASE"]) as connection:
            with connection.cursor() as cursor:
                cursor.execute("CREATE TABLE proof (id int)")  # the role owns its database
        connection.close()
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        connect_as(postgres, logins["users"]["PGUSER"], logins["users"]["PGPASSWORD"], "acme_payments")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect_as(postgres, logins["users"]["PGUSER"], "wrong", "acme_users")

    status = current["status"]
    assert status["databases"]["users"] == {"database": "acme_users", "secretName": "acme-users-db"}
    assert status["url"] == "http://acme.shop.example"
    assert status["observedGeneration"] == current["metadata"]["generation"]

    # No kubelet: replicas never become ready by themselves.
    workloads = condition(current, "WorkloadsReady")
    assert workloads["status"] == "False" and workloads["reason"] == "ReplicasNotReady"
    assert "not ready" in workloads["message"]
    assert current["status"]["phase"] == "Provisioning"
    assert condition(current, "Ready")["status"] == "False"

    mark_deployments_ready(admin_kube, namespace, "acme")
    ready = wait_for(lambda: (lambda sf: sf if condition(sf, "Ready").get("status") == "True" else None)(
        get_storefront(admin_kube, namespace, "acme")), timeout=20, what="Ready=True")
    assert ready["status"]["phase"] == "Ready"
    assert ready["status"]["services"]["users"] == {"replicas": 2, "readyReplicas": 2,
                                                    "image": "registry.example.com/storefront/users:0.1.0"}
    assert admin_kube.get(INGRESS, namespace, "acme") is not None or \
        admin_kube.list(INGRESS, namespace, "storefront.dev/instance=acme")
