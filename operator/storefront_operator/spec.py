"""Reading a Storefront's spec, with the CRD's defaults applied again (never trust a default blindly)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .settings import SERVICE_NAMES

_DURATION_PART = re.compile(r"(\d+)([hms])")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def duration_seconds(text: str) -> int:
    """'1h30m' -> 5400 (the CRD admits whole h, m and s parts only)."""
    return sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(text))


@dataclass(frozen=True)
class CACertificateRef:
    """A key of a ConfigMap in the Storefront's namespace holding a PEM CA bundle."""
    config_map_name: str
    key: str


@dataclass(frozen=True)
class ServerSpec:
    host: str
    port: int
    ssl_mode: str
    admin_secret_name: str
    ca_certificate: CACertificateRef | None = None


@dataclass(frozen=True)
class StorefrontSpec:
    namespace: str
    name: str
    uid: str
    generation: int
    raw: dict[str, Any]

    @classmethod
    def from_object(cls, storefront: dict[str, Any]) -> StorefrontSpec:
        metadata = storefront["metadata"]
        return cls(metadata["namespace"], metadata["name"], metadata["uid"],
                   int(metadata.get("generation", 0)), storefront.get("spec") or {})

    @property
    def paused(self) -> bool:
        return bool(self.raw.get("paused", False))

    def service(self, name: str) -> dict[str, Any]:
        return (self.raw.get("services") or {}).get(name) or {}

    def image(self, service: str) -> str:
        override = self.service(service).get("image")
        if override:
            return str(override)
        return f"{str(self.raw['imageRegistry']).rstrip('/')}/{service}:{self.raw['version']}"

    @property
    def ingress(self) -> dict[str, Any]:
        return self.raw.get("ingress") or {}

    @property
    def ingress_host(self) -> str:
        return str(self.ingress.get("host") or "")

    @property
    def url(self) -> str:
        """What clients use. https when the Ingress terminates TLS or an ALB certificate is attached.
        With no host (an Ingress that matches any), an explicit auth.issuer is the URL clients use."""
        if not self.ingress_host:
            return str(self.auth.get("issuer") or "")
        annotations = self.ingress.get("annotations") or {}
        secure = bool(self.ingress.get("tls")) or "alb.ingress.kubernetes.io/certificate-arn" in annotations
        return f"{'https' if secure else 'http'}://{self.ingress_host}"

    @property
    def auth(self) -> dict[str, Any]:
        return self.raw.get("auth") or {}

    @property
    def issuer(self) -> str:
        if self.auth.get("issuer"):
            return str(self.auth["issuer"])
        if self.ingress_host:
            return f"https://{self.ingress_host}"
        # No public host: still a stable, unique issuer for tokens that never leave the cluster.
        return f"https://{self.name}.{self.namespace}.storefront.invalid"

    @property
    def access_token_ttl(self) -> str:
        return str(self.auth.get("accessTokenTTL") or "15m")

    @property
    def refresh_token_ttl(self) -> str:
        return str(self.auth.get("refreshTokenTTL") or "720h")

    @property
    def payments(self) -> dict[str, Any]:
        return self.raw.get("payments") or {}

    @property
    def paystack(self) -> dict[str, Any]:
        return self.payments.get("paystack") or {}

    @property
    def paystack_secret_ref(self) -> tuple[str, str] | None:
        ref = self.paystack.get("secretKeyRef") or {}
        if not ref.get("name") or not ref.get("key"):
            return None
        return str(ref["name"]), str(ref["key"])

    @property
    def paystack_simulator_image(self) -> str:
        """The simulator's image when spec.payments.paystack.simulator asks for one (development)."""
        return str((self.paystack.get("simulator") or {}).get("image") or "")

    @property
    def database(self) -> dict[str, Any]:
        return self.raw.get("database") or {}

    @property
    def embedded_database(self) -> dict[str, Any] | None:
        embedded = self.database.get("embedded")
        return None if embedded is None else dict(embedded)

    @property
    def server(self) -> ServerSpec | None:
        server = self.database.get("server")
        if not server:
            return None
        ca = server.get("caCertificate") or {}
        ca_name = str((ca.get("configMapRef") or {}).get("name") or "")
        return ServerSpec(
            host=str(server["host"]),
            port=int(server.get("port") or 5432),
            ssl_mode=str(server.get("sslMode") or "require"),
            admin_secret_name=str((server.get("adminSecretRef") or {}).get("name", "")),
            ca_certificate=CACertificateRef(ca_name, str(ca.get("key") or "ca.crt")) if ca_name else None,
        )

    @property
    def deletion_policy(self) -> str:
        return str(self.database.get("deletionPolicy") or "Retain")

    @property
    def services(self) -> tuple[str, ...]:
        return SERVICE_NAMES
