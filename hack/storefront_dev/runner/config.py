"""What the local platform runs with: ports, data directory, generated secrets, per-service environment."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from storefront_common.testing.servers import free_port

from .routes import SERVICE_CLIENTS, SERVICES, TOPOLOGY

LOCAL_ADMIN_EMAIL = "admin@storefront.local"
LOCAL_ADMIN_PASSWORD = "storefront-admin"
DEMO_VENDOR_EMAIL = "vendor@storefront.local"
DEMO_VENDOR_PASSWORD = "storefront-vendor"
# Where Paystack sends the browser back after paying: the shop's page when there is one (it verifies the
# payment and shows the order or the wallet), else the payments service's own.
PAYSTACK_RETURN_PATH = "/payments/callback" if "web" in SERVICES else "/api/v1/payments/paystack/callback"
# Server threads per service, as the chart's values set them (why orders and carts have more: there).
SERVICE_THREADS = {component.name: component.threads for component in TOPOLOGY.components}


@dataclass
class LocalConfig:
    port: int = 8080
    data_dir: Path = Path(".data")
    seed_demo: bool = True
    admin_email: str = LOCAL_ADMIN_EMAIL
    admin_password: str = LOCAL_ADMIN_PASSWORD
    database_urls: dict[str, str] = field(default_factory=dict)
    service_ports: dict[str, int] = field(default_factory=dict)
    simulator_port: int = 0
    workers: int = 1
    job_interval_seconds: float = 60.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> "LocalConfig":
        return cls(
            port=int(os.environ.get("PORT", "8080")),
            data_dir=Path(os.environ.get("DATA_DIR", ".data")).resolve(),
            seed_demo=os.environ.get("SEED_DEMO", "1") not in ("0", "false", "no"),
            admin_email=os.environ.get("STOREFRONT_ADMIN_EMAIL", LOCAL_ADMIN_EMAIL),
            admin_password=os.environ.get("STOREFRONT_ADMIN_PASSWORD", LOCAL_ADMIN_PASSWORD),
            database_urls={name: os.environ[f"{name.upper()}_DATABASE_URL"] for name in SERVICES
                           if os.environ.get(f"{name.upper()}_DATABASE_URL")},
            workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
        )

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def assign_ports(self) -> None:
        for name in SERVICES:
            self.service_ports.setdefault(name, free_port())
        self.simulator_port = self.simulator_port or free_port()

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[name]}"

    def database_url(self, name: str) -> str:
        return self.database_urls.get(name) or f"sqlite:///{self.data_dir / f'{name}.db'}"


@dataclass
class LocalSecrets:
    """Secrets the services share locally, kept in the data directory so restarts agree with old data."""

    client_secrets: dict[str, str]
    paystack_secret_key: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> "LocalSecrets":
        path = data_dir / "local-secrets.json"
        if path.exists():
            kept = cls(**json.loads(path.read_text()))
            if set(SERVICES) <= set(kept.client_secrets):
                return kept
            # A service added since (web): its secret joins the others, which stay what they were.
            kept.client_secrets.update({name: secrets.token_urlsafe(32) for name in SERVICES
                                        if name not in kept.client_secrets})
            path.write_text(json.dumps(kept.__dict__))
            return kept
        created = cls({name: secrets.token_urlsafe(32) for name in SERVICES},
                      f"sk_test_{secrets.token_hex(20)}")
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(created.__dict__))
        path.chmod(0o600)
        return created

    def client_hashes(self) -> str:
        return ",".join(f"{name}:{hashlib.sha256(secret.encode()).hexdigest()}"
                        for name, secret in self.client_secrets.items() if name in SERVICE_CLIENTS)


def service_environment(name: str, config: LocalConfig, local_secrets: LocalSecrets) -> dict[str, str]:
    env = {
        "SERVICE_NAME": name,
        "ENVIRONMENT": "local",
        "DATABASE_URL": config.database_url(name),
        "DATA_DIR": str(config.data_dir),
        "HOST": "127.0.0.1",
        "PORT": str(config.service_ports[name]),
        "WEB_CONCURRENCY": str(config.workers),
        "WEB_THREADS": str(SERVICE_THREADS[name]),
        "JWT_ISSUER": config.public_url,
        "PUBLIC_URL": config.public_url,
        "SERVICE_CLIENT_ID": name,
        "SERVICE_CLIENT_SECRET": local_secrets.client_secrets[name],
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        **{f"{other.upper()}_URL": config.service_url(other) for other in SERVICES},
    }
    if name == "users":
        env.update(SERVICE_CLIENTS=local_secrets.client_hashes(), STOREFRONT_ADMIN_EMAIL=config.admin_email,
                   STOREFRONT_ADMIN_PASSWORD=config.admin_password)
    if name == "payments":
        env.update(PAYSTACK_SECRET_KEY=local_secrets.paystack_secret_key,
                   PAYSTACK_BASE_URL=f"http://127.0.0.1:{config.simulator_port}",
                   PAYSTACK_CALLBACK_URL=f"{config.public_url}{PAYSTACK_RETURN_PATH}")
    env.update(config.extra_env)
    return env
