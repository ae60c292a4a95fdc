"""Per-app objects: the SQLAlchemy extension and the users service's own state (settings, keys, mailer)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from storefront_common.db import make_db

if TYPE_CHECKING:
    from .keys import SigningKeys
    from .mail import Mailer
    from .settings import Settings

db = make_db()
EXTENSION_NAME = "storefront_users"


@dataclass
class UsersExtension:
    settings: Settings
    keys: SigningKeys
    mailer: Mailer
    service_clients: dict[str, str]


def users_extension() -> UsersExtension:
    extension: UsersExtension = current_app.extensions[EXTENSION_NAME]
    return extension
