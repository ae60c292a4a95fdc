"""What the web service reaches at run time: its settings, its database (the sessions) and the public API."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.db import make_db
from storefront_common.dependencies import Dependencies, Overrides, current

from .api import PublicApi
from .page_cache import PageCache
from .settings import Settings

db = make_db()


@dataclass(kw_only=True)
class WebDependencies(Dependencies):
    settings: Settings
    api: PublicApi
    page_cache: PageCache


def build_dependencies(settings: Settings, **overrides: Any) -> WebDependencies:
    given = Overrides(WebDependencies, settings, db, overrides)
    return WebDependencies(**given.common(), api=given.get("api", lambda: PublicApi(settings)),
                           page_cache=given.get("page_cache", lambda: PageCache(settings.page_cache_seconds)))


def deps() -> WebDependencies:
    return current(WebDependencies)
