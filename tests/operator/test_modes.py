"""Two Storefronts side by side, the embedded development database, a server verified with the
Storefront's CA bundle, and the Events of transitions."""
from __future__ import annotations

import ipaddress
import os
import pwd
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.operator.conftest import (SERVICE_NAMES, OperatorProcess, condition, create_storefront, get_storefront, new_namespace, secret_files,
                      wait_for, wait_provisioned)
from storefront_common.testing.postgres import PostgresServer
from storefront_operator.kube import (CHART_KINDS, CONFIG_MAP, DEPLOYMENT, EVENT, PERSISTENT_VOLUME_CLAIM as PVC,
                                      SECRET, STATEFUL_SET, STOREFRONT, Kube)

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
        assert {d["metadata"]["name"] for d in deployments} == {f"{name}-{s}" for s in SERVICE_NAMES}
        assert all(d["metadata"]["ownerReferences"][0]["uid"] == uid for d in deployments)
    assert secret_files(admin_kube, namespace, "alpha-users-db")["PGPASSWORD"] != \
        secret_files(admin_kube, namespace, "beta-users-db")["PGPASSWORD"]

    admin_kube.delete(STOREFRONT, namespace, "alpha")
    wait_for(lambda: get_storefront(admin_kube, namespace, "alpha") is None, what="alpha deleted")
    assert condition(get_storefront(admin_kube, namespace, "beta"), "DatabasesReady")["status"] == "True"
    assert len(admin_kube.list(DEPLOYMENT, namespace, "storefront.dev/instance=beta")) == len(SERVICE_NAMES)


def test_embedded_database_runs_the_charts_postgresql(admin_kube: Kube, postgres: PostgresServer,
                                                      operator_factory: Callable[..., OperatorProcess]) -> None:
    # An operator of its own whose drift check never comes: the embedded server's readiness must reach
    # the status through the StatefulSet's own events (a Storefront once waited a minute for the timer).
    namespace = new_namespace(admin_kube, "embedded")
    operator_factory(namespace, drift_check_interval_s=3600)
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


def make_certificate(subject: str, key: ec.EllipticCurvePrivateKey,
                     issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None) -> x509.Certificate:
    """A CA certificate when issuer is None, else a server certificate for 127.0.0.1 signed by it."""
    now = datetime.now(timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1)))
    if issuer is None:
        builder = builder.issuer_name(name).add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                                          critical=True)
        return builder.sign(key, hashes.SHA256())
    issuer_certificate, issuer_key = issuer
    builder = builder.issuer_name(issuer_certificate.subject).add_extension(
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[tuple[PostgresServer, str]]:
    """A PostgreSQL serving TLS with a certificate for 127.0.0.1 from a private CA; yields the CA (PEM)."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = make_certificate("storefront test CA", ca_key)
    server_certificate = make_certificate("127.0.0.1", server_key, (ca, ca_key))
    server = PostgresServer(auth="scram-sha-256")
    # The server's own directory: the only one its user (postgres, when the tests run as root) can read.
    cert_file, key_file = Path(server.base_dir, "server.crt"), Path(server.base_dir, "server.key")
    cert_file.write_text(pem(server_certificate))
    key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    for path in (cert_file, key_file):
        path.chmod(0o600)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(path, user.pw_uid, user.pw_gid)
    server.extra_settings.update({"ssl": "on", "ssl_cert_file": str(cert_file), "ssl_key_file": str(key_file)})
    server.start()
    try:
        yield server, pem(ca)
    finally:
        server.stop()


def pod_specs(admin_kube: Kube, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    """Every rendered pod template of one Storefront, by kind/name."""
    specs = {}
    for kind in CHART_KINDS:
        for obj in admin_kube.list(kind, namespace, f"storefront.dev/instance={name}"):
            spec = obj.get("spec") or {}
            template = (spec.get("jobTemplate") or {}).get("spec", spec).get("template")
            if template:
                specs[f"{kind.kind}/{obj['metadata']['name']}"] = template["spec"]
    return specs


def wait_databases_condition(admin_kube: Kube, namespace: str, name: str, what: str,
                             matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found = condition(get_storefront(admin_kube, namespace, name), "DatabasesReady")
        return found if found and matches(found) else None

    return wait_for(check, timeout=30, what=what)


def test_verify_full_uses_the_storefronts_ca_bundle(admin_kube: Kube, namespace: str,
                                                    tls_postgres: tuple[PostgresServer, str]) -> None:
    server, ca_bundle = tls_postgres
    ca_ref = {"configMapRef": {"name": "tls-ca"}}  # key: the CRD's default, ca.crt
    create_storefront(admin_kube, namespace, "tls", server, database={
        "server": {"host": "127.0.0.1", "port": server.port, "sslMode": "verify-full",
                   "adminSecretRef": {"name": "tls-db-admin"}, "caCertificate": ca_ref}})
    item = wait_databases_condition(admin_kube, namespace, "tls", "CACertificateMissing",
                                    lambda found: found["reason"] == "CACertificateMissing")
    assert item["status"] == "False" and "ConfigMap tls-ca" in item["message"]

    # A bundle of another CA: the operator's connection really verifies with the ConfigMap's bundle.
    other_ca = pem(make_certificate("some other CA", ec.generate_private_key(ec.SECP256R1())))
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tls-ca", "namespace": namespace},
                  "data": {"ca.crt": other_ca}}
    admin_kube.create(CONFIG_MAP, namespace, config_map)

    item = wait_databases_condition(admin_kube, namespace, "tls", "certificate verify failed",
                                    lambda found: "certificate verify failed" in found.get("message", ""))
    assert item["status"] == "False" and item["reason"] == "ServerUnreachable"

    admin_kube._request("PATCH", CONFIG_MAP.object_path(namespace, "tls-ca"), body={"data": {"ca.crt": ca_bundle}},
                        content_type="application/merge-patch+json")
    wait_provisioned(admin_kube, namespace, "tls", timeout=30)
    assert secret_files(admin_kube, namespace, "tls-users-db")["PGSSLMODE"] == "verify-full"

    # The services, migrations and periodic jobs verify with the same bundle.
    def all_workloads() -> dict[str, dict[str, Any]] | None:
        specs = pod_specs(admin_kube, namespace, "tls")
        kinds = {where.split("/")[0] for where in specs}
        return specs if kinds == {"Deployment", "Job", "CronJob"} and len(specs) == 3 * len(SERVICE_NAMES) else None

    specs = wait_for(all_workloads, what="a Deployment, a migration Job and a CronJob per service")
    for where, spec in specs.items():
        (container,) = spec["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PGSSLROOTCERT"] == "/etc/storefront/database-ca/ca.crt", where
        assert {"name": "database-ca", "mountPath": "/etc/storefront/database-ca", "readOnly": True} \
            in container["volumeMounts"], where
        volume = next(v for v in spec["volumes"] if v["name"] == "database-ca")
        assert volume["configMap"]["name"] == "tls-ca", where
