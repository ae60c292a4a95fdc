"""What the users service reaches at run time: settings, database, its signing keys, the mailer and the
other services' client credentials."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.auth import StaticKeys
from storefront_common.db import make_db
from storefront_common.dependencies import Dependencies, Overrides, current

from .mailer import Mailer
from .service_clients import parse_service_clients
from .settings import Settings
from .signing_keys import SigningKeys, load_signing_keys

db = make_db()


@dataclass(kw_only=True)
class UsersDependencies(Dependencies):
    settings: Settings
    keys: SigningKeys
    mailer: Mailer
    service_clients: dict[str, str]  # client id -> sha256 hex of its secret


def build_dependencies(settings: Settings, **overrides: Any) -> UsersDependencies:
    given = Overrides(UsersDependencies, settings, db, overrides)
    keys = given.get("keys", lambda: load_signing_keys(settings))
    return UsersDependencies(
        # The issuer verifies with the keys it publishes, without asking itself for its JWKS.
        **given.common(key_source=lambda: StaticKeys(lambda: keys.public_keys)), keys=keys,
        mailer=given.get("mailer", lambda: Mailer(settings)),
        service_clients=given.get("service_clients", lambda: parse_service_clients(settings.service_clients)))


def deps() -> UsersDependencies:
    return current(UsersDependencies)
