"""Fixtures: a real control plane (storefront_dev.pytest_controlplane), a real PostgreSQL with password
auth, and the operator as a real process (`python -m storefront_operator`) under its own ServiceAccount,
so the audit log tells its requests apart from the test's."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml

from storefront_common.testing.postgres import PostgresServer
from storefront_dev.controlplane import ControlPlane
from storefront_dev.pytest_controlplane import wait_established
from storefront_operator.kube import DEPLOYMENT, SECRET, STOREFRONT, Kube, KubeError, ResourceKind
from storefront_operator.settings import SERVICE_NAMES


REPOSITORY = Path(__file__).resolve().parents[2]
CRD_PATH = REPOSITORY / "k8s" / "crds" / "storefront.yaml"
OPERATOR_CHART = REPOSITORY / "charts" / "storefront-operator"
OPERATOR_NAMESPACE = "storefront-system"
OPERATOR_ACCOUNT = "storefront-operator"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"
SHARED_NAMESPACE_PATTERN = "t-*"  # the session operator watches these; isolated tests use others
DRIFT_CHECK_INTERVAL_S = 5
NAMESPACE = ResourceKind("v1", "Namespace", "namespaces", namespaced=False)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.2, what: str = "") -> Any:
    """Poll until check() returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}; last: {last!r}")


@pytest.fixture(scope="package")
def admin_kube(control_plane: ControlPlane) -> Kube:
    return Kube.from_environment(str(control_plane.kubeconfig_path))


def apply_crds(kubectl: Any, path: Path, *names: str) -> None:
    """Apply the CustomResourceDefinitions in `path` and wait until the API server serves each of `names`."""
    result = kubectl("apply", "--server-side", "-f", str(path))
    assert result.returncode == 0, result.stderr
    result = wait_established(kubectl, *names)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="package")
def crd(kubectl: Any) -> Path:
    apply_crds(kubectl, CRD_PATH, "storefronts.storefront.dev")
    return CRD_PATH


@pytest.fixture(scope="package")
def operator_kubeconfig(control_plane: ControlPlane, kubectl: Any, helm: Any,
                        tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig for the operator's ServiceAccount, with the RBAC charts/storefront-operator grants
    (all namespaces): the tests prove those least privileges are enough."""
    result = kubectl("create", "namespace", OPERATOR_NAMESPACE)
    assert result.returncode == 0 or "AlreadyExists" in result.stderr, result.stderr
    rendered = helm("template", OPERATOR_ACCOUNT, str(OPERATOR_CHART), "--namespace", OPERATOR_NAMESPACE,
                    "--set", "watch.allNamespaces=true")
    assert rendered.returncode == 0, rendered.stderr
    rbac = [doc for doc in yaml.safe_load_all(rendered.stdout)
            if doc and doc["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")]
    assert {doc["kind"] for doc in rbac} == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding"}
    result = kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac))
    assert result.returncode == 0, result.stderr
    token = kubectl("create", "token", OPERATOR_ACCOUNT, "-n", OPERATOR_NAMESPACE, "--duration=6h")
    assert token.returncode == 0, token.stderr
    config = json.loads(Path(control_plane.kubeconfig_path).read_text())
    config["users"] = [{"name": "operator", "user": {"token": token.stdout.strip()}}]
    config["contexts"][0]["context"]["user"] = "operator"
    path = tmp_path_factory.mktemp("operator") / "kubeconfig"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="package")
def postgres() -> Iterator[PostgresServer]:
    """Password authentication over TCP (CONNECT revocation and credentials are real), DDL logged."""
    server = PostgresServer(auth="scram-sha-256", extra_settings={"log_statement": "ddl"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


class OperatorProcess:
    def __init__(self, control_plane: ControlPlane, kubeconfig: Path, namespaces: str, log_path: Path,
                 kopf_run: bool = False, peering: str = "",
                 drift_check_interval_s: float = DRIFT_CHECK_INTERVAL_S) -> None:
        self.drift_check_interval_s = drift_check_interval_s
        self.kopf_run = kopf_run  # the image's entry point (kopf run --module=...) instead of python -m
        self.peering = peering  # a peering's name: several replicas; empty: standalone
        self.control_plane = control_plane
        self.kubeconfig = kubeconfig
        self.namespaces = namespaces
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "STOREFRONT_NAMESPACES": self.namespaces,
            "HELM_BINARY": str(self.control_plane.bin_dir / "helm"),
            "STOREFRONT_DRIFT_CHECK_INTERVAL_SECONDS": str(self.drift_check_interval_s),
            "STOREFRONT_RETRY_BACKOFF_MAX_SECONDS": "4",
            "STOREFRONT_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
        }
        log = open(self.log_path, "ab")
        peering = [f"--peering={self.peering}"] if self.peering else []
        command = [sys.executable, "-m", "storefront_operator", *peering]
        if self.kopf_run:
            command = [sys.executable, "-m", "kopf", "run", *(peering or ["--standalone"]),
                       "--module=storefront_operator",
                       *(f"--namespace={namespace}" for namespace in self.namespaces.split(","))]
        self.process = subprocess.Popen(command, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_running(self) -> None:
        assert self.process is not None and self.process.poll() is None, f"operator exited:\n{self.log()[-3000:]}"

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


OPERATORS: list[OperatorProcess] = []  # every operator the session started, for failure reports
LOG_TAIL_CHARS = 6000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report carries the log of each operator that wrote during it: a timing failure
    in CI is otherwise unexplainable once the run's temporary files are gone."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for operator in OPERATORS:
        if operator.log_path.stat().st_mtime >= call.start:
            exit_code = operator.process.poll() if operator.process else None
            report.sections.append((f"operator log ({operator.namespaces}, exit code {exit_code})",
                                    operator.log()[-LOG_TAIL_CHARS:]))


@pytest.fixture(scope="package")
def operator_factory(control_plane: ControlPlane, operator_kubeconfig: Path, crd: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., OperatorProcess]]:
    def start(namespaces: str, kopf_run: bool = False, peering: str = "",
              drift_check_interval_s: float = DRIFT_CHECK_INTERVAL_S) -> OperatorProcess:
        log_path = tmp_path_factory.mktemp("operator-log") / "operator.log"
        process = OperatorProcess(control_plane, operator_kubeconfig, namespaces, log_path, kopf_run,
                                  peering, drift_check_interval_s).start()
        OPERATORS.append(process)
        return process

    yield start
    for process in OPERATORS:
        process.stop()


@pytest.fixture(scope="package")
def shared_operator(operator_factory: Callable[[str], OperatorProcess]) -> OperatorProcess:
    return operator_factory(SHARED_NAMESPACE_PATTERN)


def new_namespace(admin_kube: Kube, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    admin_kube.create(NAMESPACE, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
def namespace(admin_kube: Kube, shared_operator: OperatorProcess) -> str:
    """A fresh namespace the shared operator watches."""
    return new_namespace(admin_kube, "t")


def secret_manifest(namespace: str, name: str, string_data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque", "data": {k: base64.b64encode(v.encode()).decode() for k, v in string_data.items()}}


def storefront_manifest(namespace: str, name: str, postgres_port: int, **spec_overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": "0.1.0",
        "imageRegistry": "registry.example.com/storefront",
        "services": {"users": {"replicas": 2}, "products": {"replicas": 2}, "orders": {"replicas": 1}},
        "ingress": {"host": f"{name}.shop.example", "className": "nginx"},
        "database": {
            "server": {"host": "127.0.0.1", "port": postgres_port, "sslMode": "disable",
                       "adminSecretRef": {"name": f"{name}-db-admin"}},
            "deletionPolicy": "Delete",
        },
        "payments": {"paystack": {"secretKeyRef": {"name": f"{name}-paystack", "key": "secretKey"}}},
    }
    spec.update(spec_overrides)
    return {"apiVersion": "storefront.dev/v1alpha1", "kind": "Storefront",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def create_storefront(admin_kube: Kube, namespace: str, name: str, postgres: PostgresServer,
                      admin_secret: bool = True, paystack_secret: bool = True, **spec_overrides: Any) -> dict[str, Any]:
    if admin_secret:
        admin_kube.create(SECRET, namespace, secret_manifest(
            namespace, f"{name}-db-admin", {"username": "postgres", "password": postgres.admin_password}))
    if paystack_secret:
        admin_kube.create(SECRET, namespace, secret_manifest(
            namespace, f"{name}-paystack", {"secretKey": "sk_test_never_copied"}))
    return admin_kube.create(STOREFRONT, namespace, storefront_manifest(namespace, name, postgres.port,
                                                                        **spec_overrides))


def condition(storefront: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for item in ((storefront or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return item
    return {}


def mark_deployments_ready(admin_kube: Kube, namespace: str, name: str) -> None:
    """What the controller manager and kubelets would do: report every replica ready."""
    for deployment in admin_kube.list(DEPLOYMENT, namespace, f"storefront.dev/instance={name}"):
        replicas = int(deployment["spec"].get("replicas", 1))
        status = {"observedGeneration": deployment["metadata"]["generation"], "replicas": replicas,
                  "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}
        path = DEPLOYMENT.object_path(namespace, deployment["metadata"]["name"]) + "/status"
        admin_kube._request("PATCH", path, body={"status": status}, content_type="application/merge-patch+json")


def connect_as(postgres: PostgresServer, user: str, password: str, database: str) -> Any:
    return psycopg2.connect(host="127.0.0.1", port=postgres.port, user=user, password=password, dbname=database,
                            connect_timeout=3)


def secret_files(admin_kube: Kube, namespace: str, name: str) -> dict[str, str]:
    secret = admin_kube.get(SECRET, namespace, name)
    assert secret is not None, f"Secret {name} missing"
    return {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}


def existing_databases(postgres: PostgresServer, prefix: str) -> list[str]:
    with psycopg2.connect(postgres.admin_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (prefix + "%",))
        return [row[0] for row in cursor.fetchall()]


def existing_roles(postgres: PostgresServer, prefix: str) -> list[str]:
    with psycopg2.connect(postgres.admin_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY 1", (prefix + "%",))
        return [row[0] for row in cursor.fetchall()]


def operator_requests(audit_log: Path, since_offset: int, namespace: str, verbs: tuple[str, ...]) -> list[str]:
    """"verb URI" of each request the operator's user made after a file offset, in one namespace or
    cluster-wide (the shared operator, same user, works in other namespaces meanwhile)."""
    found = []
    with open(audit_log, "rb") as handle:
        handle.seek(since_offset)
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("stage") not in ("ResponseComplete", "ResponseStarted"):
                continue
            if entry.get("user", {}).get("username") != OPERATOR_USER or entry.get("verb") not in verbs:
                continue
            if entry.get("objectRef", {}).get("namespace") not in (None, namespace):
                continue
            found.append(f"{entry['verb']} {entry.get('requestURI')}")
    return found


def operator_writes(audit_log: Path, since_offset: int, namespace: str) -> list[str]:
    return operator_requests(audit_log, since_offset, namespace, ("create", "update", "patch", "delete"))


def get_storefront(admin_kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return admin_kube.get(STOREFRONT, namespace, name)
    except KubeError:
        return None


def wait_provisioned(admin_kube: Kube, namespace: str, name: str, timeout: float = 20.0) -> dict[str, Any]:
    def provisioned() -> dict[str, Any] | None:
        current = get_storefront(admin_kube, namespace, name)
        ready = condition(current, "SecretsReady").get("status") == "True" and \
            condition(current, "DatabasesReady").get("status") == "True" and \
            len(admin_kube.list(DEPLOYMENT, namespace, f"storefront.dev/instance={name}")) == len(SERVICE_NAMES)
        return current if ready else None

    return wait_for(provisioned, timeout=timeout, what=f"{namespace}/{name} provisioned")


def wait_ready(admin_kube: Kube, namespace: str, name: str, timeout: float = 20.0) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        current = get_storefront(admin_kube, namespace, name)
        return current if condition(current, "Ready").get("status") == "True" else None

    return wait_for(ready, timeout=timeout, what=f"{namespace}/{name} Ready")


def patch_storefront(admin_kube: Kube, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
    return admin_kube._request("PATCH", STOREFRONT.object_path(namespace, name), body=patch,
                               content_type="application/merge-patch+json")
