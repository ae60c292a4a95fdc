"""What a service's code reaches at run time (settings, database, clients of other services, caches):
one object per app, built once by the app factory.

Each service subclasses `Dependencies` (or `CallerDependencies`, when it calls other services) with its own
fields in its `dependencies.py`, builds it there with `Overrides`, and reaches it with `deps()` (built on
`current`). A test replaces any field the same way everywhere: `create_app(settings, <field>=replacement)`.
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


@dataclass(kw_only=True)
class CallerDependencies(Dependencies):
    """A service that calls others: the client-credentials tokens its clients send."""

    tokens: ServiceTokenProvider


D = TypeVar("D", bound=Dependencies)


def current(kind: type[D], app: Flask | None = None) -> D:
    """The dependencies of `app` (default: the current app), which must be a `kind`."""
    found = (app or current_app).extensions[EXTENSION]
    if not isinstance(found, kind):
        raise TypeError(f"the app's dependencies are a {type(found).__name__}, not a {kind.__name__}")
    return found


class Overrides:
    """What a service's `build_dependencies` fills in: each field from the replacements the caller of
    `create_app` passed, else from its default. An unknown name is an error, so a misspelt replacement
    cannot leave the real dependency in place unnoticed."""

    def __init__(self, kind: type[Dependencies], settings: CommonSettings, db: SQLAlchemy,
                 given: Mapping[str, Any]) -> None:
        self._names = {field.name for field in fields(kind)}
        unknown = set(given) - self._names
        if unknown:
            raise TypeError(f"{kind.__name__} has no field {', '.join(sorted(unknown))}")
        self.settings, self.db = settings, db
        self._given = dict(given)

    def get(self, name: str, default: Callable[[], T]) -> T:
        """The replacement for `name`, or what `default()` builds (only when there is none); built once."""
        if name not in self._given:
            self._given[name] = default()
        return self._given[name]  # type: ignore[no-any-return]

    def common(self, key_source: Callable[[], KeySource] | None = None) -> dict[str, Any]:
        """The fields every service fills alike: settings, db, key_source (default: the users service's JWKS)
        and, for a CallerDependencies, tokens."""
        filled = {"settings": self.settings, "db": self.db,
                  "key_source": self.get("key_source", key_source or (lambda: remote_jwks(self.settings)))}
        if "tokens" in self._names:
            filled["tokens"] = self.tokens
        return filled

    @property
    def tokens(self) -> ServiceTokenProvider:
        return self.get("tokens", lambda: service_tokens(self.settings))

    def client(self, name: str) -> ServiceClient:
        """A client of service `name` at its `<name>_url` setting, sending this service's tokens."""
        return ServiceClient(name, getattr(self.settings, f"{name}_url"), self.settings, self.tokens)


def remote_jwks(settings: CommonSettings) -> RemoteJwks:
    return RemoteJwks(settings.effective_jwks_url, settings.jwks_cache_seconds)


def service_tokens(settings: CommonSettings) -> ServiceTokenProvider:
    """Client-credentials tokens for this service's calls to the others."""
    return ServiceTokenProvider(settings.users_url, settings.client_id, settings.service_client_secret,
                                timeout=settings.http_read_timeout)
