"""What the carts service reaches at run time: its settings, database and the products service."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.db import make_db
from storefront_common.dependencies import CallerDependencies, Overrides, current

from .product_lookup import ProductLookup
from .settings import Settings

db = make_db()


@dataclass(kw_only=True)
class CartsDependencies(CallerDependencies):
    settings: Settings
    product_lookup: ProductLookup


def build_dependencies(settings: Settings, **overrides: Any) -> CartsDependencies:
    given = Overrides(CartsDependencies, settings, db, overrides)
    return CartsDependencies(**given.common(),
                             product_lookup=given.get("product_lookup", lambda: ProductLookup(given.client("products"))))


def deps() -> CartsDependencies:
    return current(CartsDependencies)
