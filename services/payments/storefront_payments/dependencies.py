"""What the payments service reaches at run time: settings, database, Paystack, and the users and orders
services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.client import ServiceClient
from storefront_common.db import make_db
from storefront_common.dependencies import CallerDependencies, Overrides, current

from .paystack import PaystackClient
from .settings import Settings

db = make_db()


@dataclass(kw_only=True)
class PaymentsDependencies(CallerDependencies):
    settings: Settings
    paystack: PaystackClient
    users: ServiceClient
    orders: ServiceClient


def build_dependencies(settings: Settings, **overrides: Any) -> PaymentsDependencies:
    given = Overrides(PaymentsDependencies, settings, db, overrides)
    return PaymentsDependencies(
        **given.common(),
        paystack=given.get("paystack", lambda: PaystackClient(
            settings.paystack_base_url, settings.paystack_secret_key.get_secret_value(),
            timeout=settings.paystack_timeout, connect_timeout=settings.http_connect_timeout)),
        users=given.get("users", lambda: given.client("users")),
        orders=given.get("orders", lambda: given.client("orders")))


def deps() -> PaymentsDependencies:
    return current(PaymentsDependencies)
