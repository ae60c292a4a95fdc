"""Step 1: the Secrets a Storefront needs.

- <name>-signing-key: the users service's RSA key, the JWKS, and retired public keys (rotation).
- <name>-<service>-db: DATABASE_URL and the libpq PG* variables (the password lives only here).
- <name>-<service>-client: SERVICE_CLIENT_SECRET; the users one also holds SERVICE_CLIENTS (hashes).
- <name>-admin: the first admin account of the shop (the users service creates it at start).
- embedded mode: <name>-postgresql-admin with the development server's password.

Existing values are always reused: a key or password is generated only when its Secret (or that
key in it) does not exist, never because a read failed. The Paystack key is only checked for, by
reference; its value is never read into a Secret, the Storefront or a log.
"""
from __future__ import annotations

import base64
import hashlib
import secrets as random_source
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from . import naming
from .apply import apply_changed, claim, foreign_controller
from .conditions import SECRETS_READY, StepOutcome
from .kube import SECRET, Kube, KubeError, Object
from .signing_keys import KeySet, drop_expired, key_set_from_files, new_key_set, rotate
from .spec import StorefrontSpec, duration_seconds
from .settings import ROTATE_ANNOTATION, SERVICE_CLIENT_NAMES

PART = "secrets"
ROTATION_HANDLED_ANNOTATION = "storefront.dev/rotation-handled"
EMBEDDED_USERNAME = "storefront"  # the chart's postgresql.auth.username


@dataclass
class DatabaseLogin:
    host: str
    port: int
    database: str
    username: str
    password: str
    ssl_mode: str

    def url(self) -> str:
        return (f"postgresql://{quote(self.username)}:{quote(self.password, safe='')}@{self.host}:{self.port}/"
                f"{self.database}?sslmode={self.ssl_mode}")


@dataclass
class ProvisionedSecrets:
    signing_key_secret: str = ""
    active_kid: str = ""
    published_kids: list[str] = field(default_factory=list)
    database_secrets: dict[str, str] = field(default_factory=dict)
    client_secrets: dict[str, str] = field(default_factory=dict)
    admin_account_secret: str = ""
    database_logins: dict[str, DatabaseLogin] = field(default_factory=dict)
    embedded_admin_secret: str = ""
    complete: bool = False  # every Secret above exists as desired
    # Per service, a digest of what its pods read from Secrets at start: a change rolls the pods.
    environment_digests: dict[str, str] = field(default_factory=dict)


class SecretConflict(Exception):
    pass


class LiveSecrets:
    """Reads the Storefront's Secrets, refusing to reuse one another controller owns."""

    def __init__(self, kube: Kube, spec: StorefrontSpec) -> None:
        self._kube = kube
        self._spec = spec
        self.objects: dict[str, Object | None] = {}

    def read(self, name: str) -> Object | None:
        if name not in self.objects:
            live = self._kube.get(SECRET, self._spec.namespace, name)
            owner = foreign_controller(live, self._spec) if live else None
            if owner:
                raise SecretConflict(f"Secret {name} already exists and belongs to {owner}")
            self.objects[name] = live
        return self.objects[name]

    def files(self, name: str) -> dict[str, str]:
        live = self.read(name)
        data = (live or {}).get("data") or {}
        return {key: base64.b64decode(value).decode() for key, value in data.items()}


def ensure_secrets(kube: Kube, storefront: Object, spec: StorefrontSpec) -> tuple[StepOutcome, ProvisionedSecrets]:
    provisioned = ProvisionedSecrets()
    live = LiveSecrets(kube, spec)
    try:
        desired = [
            signing_key_secret(live, storefront, spec, provisioned),
            *client_secrets(live, spec, provisioned),
            admin_account(live, spec, provisioned),
            *database_secrets(live, spec, provisioned),
        ]
        for name, obj in desired:
            apply_changed(kube, SECRET, obj, live.objects.get(name))
        provisioned.complete = True
        provisioned.environment_digests = environment_digests(spec, provisioned, dict(desired))
        paystack_problem = check_paystack_reference(kube, spec)
    except SecretConflict as conflict:
        return StepOutcome.failure(SECRETS_READY, "NameConflict", str(conflict)), provisioned
    except KubeError as error:
        return StepOutcome.failure(SECRETS_READY, "KubernetesError", f"reading or writing Secrets: {error}"), provisioned
    if paystack_problem:
        return paystack_problem, provisioned
    # Messages stay the same from one reconcile to the next: a changing message would be a status write.
    message = f"{len(desired)} Secrets provisioned; Paystack key referenced from Secret {spec.paystack_secret_ref[0]}"
    return StepOutcome.success(SECRETS_READY, "Provisioned", message), provisioned


def environment_digests(spec: StorefrontSpec, provisioned: ProvisionedSecrets,
                        desired: dict[str, Object]) -> dict[str, str]:
    digests = {}
    for service in spec.services:
        names = (provisioned.database_secrets[service], provisioned.client_secrets[service])
        content = "\0".join(f"{key}={value}" for name in names for key, value in sorted(desired[name]["data"].items()))
        digests[service] = hashlib.sha256(content.encode()).hexdigest()[:16]
    return digests


def secret_object(spec: StorefrontSpec, name: str, files: dict[str, str],
                  annotations: dict[str, str] | None = None) -> Object:
    obj: Object = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "annotations": dict(annotations or {})},
        "type": "Opaque",
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in sorted(files.items())},
    }
    return claim(obj, spec, PART)


def signing_key_secret(live: LiveSecrets, storefront: Object, spec: StorefrontSpec,
                       provisioned: ProvisionedSecrets) -> tuple[str, Object]:
    name = naming.signing_key_secret(spec.name)
    existing = live.read(name)
    rotation_requested = (storefront["metadata"].get("annotations") or {}).get(ROTATE_ANNOTATION, "")
    now = datetime.now(timezone.utc)
    key_set: KeySet | None = key_set_from_files(live.files(name)) if existing else None
    if key_set is None:
        key_set = new_key_set()  # first creation: the current rotation request counts as handled
    else:
        handled = (existing or {}).get("metadata", {}).get("annotations", {}).get(ROTATION_HANDLED_ANNOTATION, "")
        key_set = drop_expired(key_set, now)
        if rotation_requested != handled:
            keep_for = timedelta(seconds=duration_seconds(spec.refresh_token_ttl))
            key_set = rotate(key_set, keep_for, now)
    provisioned.signing_key_secret = name
    provisioned.active_kid = key_set.active["kid"]
    provisioned.published_kids = key_set.published_kids
    return name, secret_object(spec, name, key_set.secret_files(), {ROTATION_HANDLED_ANNOTATION: rotation_requested})


def new_secret_value() -> str:
    return random_source.token_urlsafe(32)


def client_secrets(live: LiveSecrets, spec: StorefrontSpec,
                   provisioned: ProvisionedSecrets) -> list[tuple[str, Object]]:
    secret_values: dict[str, str] = {}
    for service in spec.services:
        name = naming.client_secret(spec.name, service)
        secret_values[service] = live.files(name).get("SERVICE_CLIENT_SECRET") or new_secret_value()
        provisioned.client_secrets[service] = name
    # The users service verifies every client by the SHA-256 of its secret; it never sees the secrets. A
    # component that is no service client (web) keeps its secret for itself (web signs its cookies with it).
    service_clients = ",".join(f"{service}:{hashlib.sha256(value.encode()).hexdigest()}"
                               for service, value in secret_values.items() if service in SERVICE_CLIENT_NAMES)
    desired = []
    for service, value in secret_values.items():
        files = {"SERVICE_CLIENT_SECRET": value}
        if service == "users":
            files["SERVICE_CLIENTS"] = service_clients
        name = provisioned.client_secrets[service]
        desired.append((name, secret_object(spec, name, files)))
    return desired


def admin_account(live: LiveSecrets, spec: StorefrontSpec, provisioned: ProvisionedSecrets) -> tuple[str, Object]:
    name = naming.admin_account_secret(spec.name)
    existing = live.files(name)
    # The email stays what it was first: a changed host must not create a second admin account.
    email = existing.get("STOREFRONT_ADMIN_EMAIL") or f"admin@{spec.ingress_host or f'{spec.name}.example.com'}"
    password = existing.get("STOREFRONT_ADMIN_PASSWORD") or new_secret_value()
    provisioned.admin_account_secret = name
    return name, secret_object(spec, name, {"STOREFRONT_ADMIN_EMAIL": email, "STOREFRONT_ADMIN_PASSWORD": password})


def database_secrets(live: LiveSecrets, spec: StorefrontSpec,
                     provisioned: ProvisionedSecrets) -> list[tuple[str, Object]]:
    desired = []
    embedded_password = ""
    if spec.embedded_database is not None:
        admin_name = naming.embedded_admin_secret(spec.name)
        embedded_password = live.files(admin_name).get("password") or new_secret_value()
        provisioned.embedded_admin_secret = admin_name
        desired.append((admin_name, secret_object(spec, admin_name, {"password": embedded_password})))
    for service in spec.services:
        name = naming.database_secret(spec.name, service)
        password = embedded_password or live.files(name).get("PGPASSWORD") or new_secret_value()
        login = database_login(spec, service, password)
        provisioned.database_secrets[service] = name
        provisioned.database_logins[service] = login
        files = {
            "DATABASE_URL": login.url(),
            "PGHOST": login.host,
            "PGPORT": str(login.port),
            "PGDATABASE": login.database,
            "PGUSER": login.username,
            "PGPASSWORD": login.password,
            "PGSSLMODE": login.ssl_mode,
        }
        desired.append((name, secret_object(spec, name, files)))
    return desired


def database_login(spec: StorefrontSpec, service: str, password: str) -> DatabaseLogin:
    server = spec.server
    if server is None:  # embedded: the chart's development server, one superuser, plain TCP in-cluster
        return DatabaseLogin(naming.embedded_host(spec.name), 5432, naming.embedded_database(service),
                             EMBEDDED_USERNAME, password, "disable")
    role = naming.database_name(spec.name, service)
    return DatabaseLogin(server.host, server.port, role, role, password, server.ssl_mode)


def check_paystack_reference(kube: Kube, spec: StorefrontSpec) -> StepOutcome | None:
    """None when the referenced Secret and key exist. Only key names are looked at, never the value."""
    reference = spec.paystack_secret_ref
    if reference is None:
        return StepOutcome.failure(SECRETS_READY, "PaystackSecretRefMissing",
                                   "spec.payments.paystack.secretKeyRef (name and key) is required")
    secret_name, key = reference
    paystack = kube.get(SECRET, spec.namespace, secret_name)
    if paystack is None:
        return StepOutcome.failure(SECRETS_READY, "PaystackSecretMissing",
                                   f"Secret {secret_name} (spec.payments.paystack.secretKeyRef) does not exist")
    if key not in (paystack.get("data") or {}):
        return StepOutcome.failure(SECRETS_READY, "PaystackSecretKeyMissing",
                                   f"Secret {secret_name} has no key {key!r} (spec.payments.paystack.secretKeyRef)")
    return None
