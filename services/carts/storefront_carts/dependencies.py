"""What the carts service reaches at run time: its settings, database and the products service."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.client import ServiceTokenProvider
from storefront_common.db import make_db
from storefront_common.dependencies import Dependencies, Overrides, current, remote_jwks, service_client, service_tokens

from .product_lookup import ProductLookup
from .settings import Settings

db = make_db()


@dataclass(kw_only=True)
class CartsDependencies(Dependencies):
    settings: Settings
    tokens: ServiceTokenProvider
    product_lookup: ProductLookup


def build_dependencies(settings: Settings, **overrides: Any) -> CartsDependencies:
    given = Overrides(CartsDependencies, overrides)
    tokens = given.get("tokens", lambda: service_tokens(settings))
    return CartsDependencies(
        settings=settings, db=db, key_source=given.get("key_source", lambda: remote_jwks(settings)), tokens=tokens,
        product_lookup=given.get("product_lookup", lambda: ProductLookup(service_client("products", settings, tokens))))


def deps() -> CartsDependencies:
    return current(CartsDependencies)
