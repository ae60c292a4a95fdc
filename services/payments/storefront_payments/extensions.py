"""The database extension and the clients of the services this one calls, built once per app."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from storefront_common.client import ServiceClient
from storefront_common.db import make_db

from .paystack import PaystackClient
from .settings import Settings

db = make_db()


@dataclass
class Dependencies:
    settings: Settings
    paystack: PaystackClient
    users: ServiceClient
    orders: ServiceClient


def deps() -> Dependencies:
    return current_app.extensions["payments"]


def settings() -> Settings:
    return deps().settings
