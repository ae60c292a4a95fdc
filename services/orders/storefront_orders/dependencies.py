"""What the orders service reaches at run time: settings, database, and the carts, products, users and
payments services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.db import make_db
from storefront_common.dependencies import CallerDependencies, Overrides, current

from .service_clients import CartsClient, PaymentsClient, ProductsClient, UsersClient
from .settings import Settings

# A checkout commits a dozen times (each saga step is durable before the next HTTP call). Expiring
# every loaded row at each commit made it re-read the order and its lines four times; instead, every
# write goes through store.py, which updates the loaded order from the row it wrote (or expires it).
db = make_db(expire_on_commit=False)


@dataclass(kw_only=True)
class OrdersDependencies(CallerDependencies):
    settings: Settings
    carts: CartsClient
    products: ProductsClient
    users: UsersClient
    payments: PaymentsClient


def build_dependencies(settings: Settings, **overrides: Any) -> OrdersDependencies:
    given = Overrides(OrdersDependencies, settings, db, overrides)
    return OrdersDependencies(**given.common(),
                              carts=given.get("carts", lambda: CartsClient(given.client("carts"))),
                              products=given.get("products", lambda: ProductsClient(given.client("products"))),
                              users=given.get("users", lambda: UsersClient(given.client("users"))),
                              payments=given.get("payments", lambda: PaymentsClient(given.client("payments"))))


def deps() -> OrdersDependencies:
    return current(OrdersDependencies)


def end_transaction() -> None:
    """Called before waiting on another service, so no pooled connection idles inside a transaction."""
    db.session.commit()
