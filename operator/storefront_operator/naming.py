"""Every name the operator derives from a Storefront, in one place.

All are prefixed by the Storefront's name, so two Storefronts in one namespace never collide.
"""
from __future__ import annotations

import hashlib
import re

POSTGRES_IDENTIFIER_MAX = 63


def signing_key_secret(storefront_name: str) -> str:
    return f"{storefront_name}-signing-key"


def database_secret(storefront_name: str, service: str) -> str:
    """DATABASE_URL and the libpq PG* variables of one service (the chart's services.<name>.secretName)."""
    return f"{storefront_name}-{service}-db"


def client_secret(storefront_name: str, service: str) -> str:
    """SERVICE_CLIENT_SECRET of one service, plus SERVICE_CLIENTS for users (an extraSecretName)."""
    return f"{storefront_name}-{service}-client"


def admin_account_secret(storefront_name: str) -> str:
    """STOREFRONT_ADMIN_EMAIL and STOREFRONT_ADMIN_PASSWORD: the first admin account the users service creates."""
    return f"{storefront_name}-admin"


def embedded_admin_secret(storefront_name: str) -> str:
    return f"{storefront_name}-postgresql-admin"


def embedded_host(storefront_name: str) -> str:
    # The chart names its PostgreSQL Service <fullname>-postgresql; fullname is the release name.
    return f"{storefront_name}-postgresql"


def embedded_volume_claim(storefront_name: str) -> str:
    # <volumeClaimTemplate name>-<StatefulSet name>-<ordinal>; the chart runs one replica.
    return f"data-{embedded_host(storefront_name)}-0"


def embedded_database(service: str) -> str:
    # The chart's PostgreSQL init script creates storefront_<service>.
    return f"storefront_{service}"


def database_name(storefront_name: str, service: str) -> str:
    """Database and login role share this name: <storefront>_<service>, a valid unquoted identifier."""
    base = re.sub(r"[^a-z0-9_]", "_", f"{storefront_name}_{service}".lower())
    if len(base) <= POSTGRES_IDENTIFIER_MAX:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    return f"{base[:POSTGRES_IDENTIFIER_MAX - 9]}_{digest}"


def owner_tag(namespace: str, storefront_name: str) -> str:
    """Written as the comment of each database: which Storefront the database belongs to."""
    return f"storefront.dev {namespace}/{storefront_name}"
