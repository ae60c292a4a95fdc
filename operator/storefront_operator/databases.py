"""Step 2: per service one login role and one database it owns, CONNECT revoked from PUBLIC.

Everything is checked before anything is created, so a converged server sees reads only (no DDL).
Passwords reach the server as SCRAM verifiers, never in clear text (a server logging DDL would
otherwise log them). Each database carries a comment naming its Storefront: the operator never
adopts or drops a database another Storefront owns.

The operator verifies the server with the Storefront's own caCertificate ConfigMap, the one the
services mount (reading ConfigMaps is a permission it already has for the chart's objects);
STOREFRONT_DATABASE_SSL_ROOT_CERT is the fallback for a Storefront without one.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from . import naming
from .conditions import DATABASES_READY, StepOutcome
from .kube import CONFIG_MAP, SECRET, STATEFUL_SET, Kube, KubeError
from .secrets import DatabaseLogin, ProvisionedSecrets
from .spec import ServerSpec, StorefrontSpec

SCRAM_ITERATIONS = 4096
INVALID_PASSWORD = "28P01"  # SQLSTATE invalid_password
CA_BUNDLE_DIR = Path(tempfile.gettempdir()) / "storefront-operator-ca"


class DatabaseProblem(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class AdminLogin:
    server: ServerSpec
    username: str
    password: str
    connect_timeout: int
    ssl_root_cert: str

    def connect(self, database: str = "postgres") -> Connection:
        return _connect(self.server, database, self.username, self.password, self.connect_timeout, self.ssl_root_cert)


def _connect(server: ServerSpec, database: str, username: str, password: str, timeout: int,
             ssl_root_cert: str) -> Connection:
    options = {"sslrootcert": ssl_root_cert} if ssl_root_cert else {}
    connection = psycopg2.connect(host=server.host, port=server.port, dbname=database, user=username,
                                  password=password, sslmode=server.ssl_mode, connect_timeout=timeout,
                                  application_name="storefront-operator", **options)
    connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
    return connection


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores, computed here so the password never goes over the wire."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{encode(salt)}${encode(stored_key)}:{encode(server_key)}"


def ensure_databases(kube: Kube, spec: StorefrontSpec, provisioned: ProvisionedSecrets,
                     connect_timeout: int, ssl_root_cert: str) -> StepOutcome:
    if spec.embedded_database is not None:
        return embedded_server_outcome(kube, spec)
    try:
        admin = admin_login(kube, spec, connect_timeout, ssl_root_cert)
        connection = admin.connect()
        try:
            provision_all(connection, admin, spec, provisioned)
        finally:
            connection.close()
    except DatabaseProblem as problem:
        return StepOutcome.failure(DATABASES_READY, problem.reason, problem.message)
    except psycopg2.OperationalError as error:
        return StepOutcome.failure(DATABASES_READY, *classify_connection_error(spec, error))
    except psycopg2.Error as error:
        return StepOutcome.failure(DATABASES_READY, "ProvisioningFailed", first_line(error))
    names = ", ".join(naming.database_name(spec.name, service) for service in spec.services)
    message = f"databases {names} ready on {admin.server.host}:{admin.server.port}"
    return StepOutcome.success(DATABASES_READY, "Provisioned", message)


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def classify_connection_error(spec: StorefrontSpec, error: psycopg2.OperationalError) -> tuple[str, str]:
    server = spec.server
    where = f"{server.host}:{server.port}" if server else "the database server"
    text = first_line(error)
    if "password authentication failed" in text or "no pg_hba.conf entry" in text:
        return "AdminAuthenticationFailed", f"the admin credentials were refused by {where}: {text}"
    return "ServerUnreachable", f"cannot connect to PostgreSQL at {where}: {text}"


def admin_login(kube: Kube, spec: StorefrontSpec, connect_timeout: int, ssl_root_cert: str) -> AdminLogin:
    server = spec.server
    assert server is not None
    try:
        secret = kube.get(SECRET, spec.namespace, server.admin_secret_name)
    except KubeError as error:
        raise DatabaseProblem("KubernetesError", f"reading Secret {server.admin_secret_name}: {error}") from None
    if secret is None:
        raise DatabaseProblem("AdminSecretMissing",
                              f"Secret {server.admin_secret_name} (spec.database.server.adminSecretRef) does not exist")
    data = secret.get("data") or {}
    missing = [key for key in ("username", "password") if not data.get(key)]
    if missing:
        raise DatabaseProblem("AdminSecretInvalid",
                              f"Secret {server.admin_secret_name} lacks key(s) {', '.join(missing)} "
                              "(needs username and password)")
    decode = lambda key: base64.b64decode(data[key]).decode()  # noqa: E731
    return AdminLogin(server, decode("username"), decode("password"), connect_timeout,
                      ca_bundle_file(kube, spec) or ssl_root_cert)


def ca_bundle_file(kube: Kube, spec: StorefrontSpec) -> str:
    """The Storefront's caCertificate as a file for libpq's sslrootcert; "" when it names none."""
    ref = spec.server.ca_certificate if spec.server else None
    if ref is None:
        return ""
    where = f"ConfigMap {ref.config_map_name} (spec.database.server.caCertificate)"
    try:
        config_map = kube.get(CONFIG_MAP, spec.namespace, ref.config_map_name)
    except KubeError as error:
        raise DatabaseProblem("KubernetesError", f"reading {where}: {error}") from None
    if config_map is None:
        raise DatabaseProblem("CACertificateMissing", f"{where} does not exist")
    bundle = (config_map.get("data") or {}).get(ref.key)
    if not bundle:
        raise DatabaseProblem("CACertificateInvalid", f"{where} has no key {ref.key}")
    return write_ca_bundle(bundle)


def write_ca_bundle(bundle: str) -> str:
    """Named by content: Storefronts sharing a bundle share the file, and a file never changes under a
    connection reading it (a changed bundle is a new file)."""
    path = CA_BUNDLE_DIR / f"{hashlib.sha256(bundle.encode()).hexdigest()}.pem"
    if not path.exists():
        CA_BUNDLE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = CA_BUNDLE_DIR / f".{path.name}.{os.getpid()}.{threading.get_ident()}"
        partial.write_text(bundle)
        os.replace(partial, path)
    return str(path)


def provision_all(connection: Connection, admin: AdminLogin, spec: StorefrontSpec,
                  provisioned: ProvisionedSecrets) -> int:
    tag = naming.owner_tag(spec.namespace, spec.name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        admin_is_superuser = bool(cursor.fetchone()[0])
    changes = 0
    for service in spec.services:
        login = provisioned.database_logins[service]
        changes += ensure_role(connection, admin, login)
        changes += ensure_database(connection, login, tag, admin_is_superuser)
    return changes


def ensure_role(connection: Connection, admin: AdminLogin, login: DatabaseLogin) -> int:
    role = sql.Identifier(login.username)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (login.username,))
        row = cursor.fetchone()
        if row is None:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(role), (scram_verifier(login.password),))
            return 1
        if not row[0]:
            cursor.execute(sql.SQL("ALTER ROLE {} LOGIN").format(role))
        if password_accepted(admin, login):
            return 0 if row[0] else 1
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(role), (scram_verifier(login.password),))
        return 1


def password_accepted(admin: AdminLogin, login: DatabaseLogin) -> bool:
    """Log in as the role itself: the only check of a password that works on RDS too (no pg_authid there)."""
    try:
        _connect(admin.server, "postgres", login.username, login.password, admin.connect_timeout,
                 admin.ssl_root_cert).close()
    except psycopg2.OperationalError as error:
        if getattr(error, "pgcode", None) == INVALID_PASSWORD or "password authentication failed" in str(error):
            return False
        if "permission denied for database" in str(error):
            return True  # authenticated, then refused CONNECT on postgres: the password is right
        raise DatabaseProblem("RoleLoginFailed", f"cannot log in as {login.username} to check its password: "
                                                 f"{first_line(error)}") from None
    return True


def ensure_database(connection: Connection, login: DatabaseLogin, tag: str, admin_is_superuser: bool) -> int:
    database, role = sql.Identifier(login.database), sql.Identifier(login.username)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(datdba), datacl::text[], shobj_description(oid, 'pg_database') "
            "FROM pg_database WHERE datname = %s", (login.database,))
        row = cursor.fetchone()
        changes = 0
        if row is None:
            if not admin_is_superuser:
                # CREATE DATABASE ... OWNER needs the admin to be a member of the owner (RDS has no superuser).
                cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
            cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
            cursor.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(database), (tag,))
            owner, acl, changes = login.username, None, 1
        else:
            owner, acl, comment = row
            if comment and comment != tag:
                raise DatabaseProblem("DatabaseConflict",
                                      f"database {login.database} exists and belongs to another Storefront ({comment})")
            if comment != tag:
                cursor.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(database), (tag,))
                changes += 1
        if owner != login.username:
            cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, role))
            changes += 1
        if public_can_connect(acl):
            cursor.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(database))
            changes += 1
    return changes


def public_can_connect(acl: list[str] | None) -> bool:
    """A NULL ACL means the defaults, which let PUBLIC connect; '=Tc/owner' is an explicit PUBLIC grant."""
    if acl is None:
        return True
    return any(entry.startswith("=") and "c" in entry.split("/")[0] for entry in acl)


def drop_databases(kube: Kube, spec: StorefrontSpec, connect_timeout: int, ssl_root_cert: str) -> int:
    """deletionPolicy Delete: drop each service's database and role, if this Storefront owns them."""
    admin = admin_login(kube, spec, connect_timeout, ssl_root_cert)
    tag = naming.owner_tag(spec.namespace, spec.name)
    dropped = 0
    connection = admin.connect()
    try:
        with connection.cursor() as cursor:
            for service in spec.services:
                name = naming.database_name(spec.name, service)
                cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                               (name,))
                row = cursor.fetchone()
                if row is not None and row[0] not in (tag, None):
                    continue  # another Storefront's database under the same name: never ours to drop
                if row is not None:
                    cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                    dropped += 1
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                if cursor.fetchone() is not None:
                    cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    return dropped


def embedded_server_outcome(kube: Kube, spec: StorefrontSpec) -> StepOutcome:
    """Embedded mode: the chart's PostgreSQL creates the databases; ready when its StatefulSet is."""
    name = naming.embedded_host(spec.name)
    try:
        statefulset = kube.get(STATEFUL_SET, spec.namespace, name)
    except KubeError as error:
        return StepOutcome.failure(DATABASES_READY, "KubernetesError", f"reading StatefulSet {name}: {error}")
    ready = int(((statefulset or {}).get("status") or {}).get("readyReplicas") or 0)
    if ready >= 1:
        return StepOutcome.success(DATABASES_READY, "EmbeddedServerReady", f"development PostgreSQL {name} is ready")
    return StepOutcome.waiting(DATABASES_READY, "EmbeddedServerNotReady",
                               f"waiting for the development PostgreSQL StatefulSet {name} to become ready")
