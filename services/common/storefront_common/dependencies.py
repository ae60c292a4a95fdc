"""What a service's code reaches at run time (settings, database, clients of other services, caches):
one object per app, built once by the app factory.

Each service subclasses `Dependencies` with its own fields in its `dependencies.py`, and reaches the
object with `deps()` there (built on `current`). A test replaces any field the same way everywhere:
`create_app(settings, <field>=replacement)`, checked against the fields by `Overrides`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy

from .auth import KeySource, RemoteJwks
from .client import ServiceClient, ServiceTokenProvider
from .settings import CommonSettings

EXTENSION = "storefront"
T = TypeVar("T")


@dataclass(kw_only=True)
class Dependencies:
    settings: CommonSettings
    db: SQLAlchemy
    # The public keys that verify bearer tokens (the JWKS of the users service, or keys held in-process).
    key_source: KeySource


D = TypeVar("D", bound=Dependencies)


def current(kind: type[D], app: Flask | None = None) -> D:
    """The dependencies of `app` (default: the current app), which must be a `kind`."""
    found = (app or current_app).extensions[EXTENSION]
    if not isinstance(found, kind):
        raise TypeError(f"the app's dependencies are a {type(found).__name__}, not a {kind.__name__}")
    return found


class Overrides:
    """The replacements a caller of `create_app` passed, by field name; an unknown name is an error, so a
    misspelt replacement cannot leave the real dependency in place unnoticed."""

    def __init__(self, kind: type[Dependencies], given: Mapping[str, Any]) -> None:
        unknown = set(given) - {field.name for field in fields(kind)}
        if unknown:
            raise TypeError(f"{kind.__name__} has no field {', '.join(sorted(unknown))}")
        self._given = dict(given)

    def get(self, name: str, default: Callable[[], T]) -> T:
        """The replacement for `name`, or what `default()` builds (only when there is none)."""
        if name in self._given:
            return self._given[name]  # type: ignore[no-any-return]
        return default()


def remote_jwks(settings: CommonSettings) -> RemoteJwks:
    return RemoteJwks(settings.effective_jwks_url, settings.jwks_cache_seconds)


def service_tokens(settings: CommonSettings) -> ServiceTokenProvider:
    """Client-credentials tokens for this service's calls to the others."""
    return ServiceTokenProvider(settings.users_url, settings.client_id, settings.service_client_secret,
                                timeout=settings.http_read_timeout)


def service_client(name: str, settings: CommonSettings, tokens: ServiceTokenProvider) -> ServiceClient:
    """A client of service `name` at its `<name>_url` setting."""
    return ServiceClient(name, getattr(settings, f"{name}_url"), settings, tokens)
