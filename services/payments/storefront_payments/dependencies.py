"""What the payments service reaches at run time: settings, database, Paystack, and the users and orders
services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storefront_common.client import ServiceClient, ServiceTokenProvider
from storefront_common.db import make_db
from storefront_common.dependencies import Dependencies, Overrides, current, remote_jwks, service_client, service_tokens

from .paystack import PaystackClient
from .settings import Settings

db = make_db()


@dataclass(kw_only=True)
class PaymentsDependencies(Dependencies):
    settings: Settings
    tokens: ServiceTokenProvider
    paystack: PaystackClient
    users: ServiceClient
    orders: ServiceClient


def build_dependencies(settings: Settings, **overrides: Any) -> PaymentsDependencies:
    given = Overrides(PaymentsDependencies, overrides)
    tokens = given.get("tokens", lambda: service_tokens(settings))
    return PaymentsDependencies(
        settings=settings, db=db, key_source=given.get("key_source", lambda: remote_jwks(settings)), tokens=tokens,
        paystack=given.get("paystack", lambda: PaystackClient(
            settings.paystack_base_url, settings.paystack_secret_key.get_secret_value(),
            timeout=settings.paystack_timeout, connect_timeout=settings.http_connect_timeout)),
        users=given.get("users", lambda: service_client("users", settings, tokens)),
        orders=given.get("orders", lambda: service_client("orders", settings, tokens)))


def deps() -> PaymentsDependencies:
    return current(PaymentsDependencies)
