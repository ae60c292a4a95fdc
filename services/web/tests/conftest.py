"""The fixture chain of the other suites: `app` (the migrated web app, one per session) -> `client` (its test
client, as one person's browser: it keeps cookies; the sessions table is emptied after each test) -> `shopper`
(an account registered and logged in through the pages). Package-scoped, as tests/e2e: the platform stops
when this suite ends, not at the end of the whole run.

Behind the app is the real platform (the five services, the Paystack simulator and the gateway, as
`make up` and the end-to-end tests run it) on PostgreSQL, over real HTTP; its mail goes to a real SMTP
server here, so the confirmation link is the one the users service sends.
"""
from __future__ import annotations

import email
import html
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from storefront_common.dependencies import current
from storefront_common.testing.databases import fresh_database, migrated, truncate_all
from storefront_common.testing.servers import free_port
from storefront_dev.runner.config import LocalConfig
from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.runner.routes import SERVICES
from storefront_dev.shop_api import Account, Api
from storefront_web.app import create_app
from storefront_web.dependencies import WebDependencies, db
from storefront_web.settings import Settings

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Mailbox:
    """An SMTP server's handler (aiosmtpd) keeping every message the users service sends."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted"

    def link_for(self, address: str, path: str, timeout: float = 15.0) -> str:
        """The last link to `path` mailed to `address` (as the mail has it, host included)."""
        pattern = re.compile(r"(https?://\S+" + re.escape(path) + r"\?token=\S+)")
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [match.group(1) for message in self.messages if message["To"] == address
                         if (match := pattern.search(message.get_content()))]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, f"no mail with {path} reached {address}"
            time.sleep(0.05)


@pytest.fixture(scope="package")
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture(scope="package")
def platform(postgres_admin_url: str, mailbox: Mailbox,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with ExitStack() as stack:
        database_urls = {name: stack.enter_context(fresh_database(postgres_admin_url, f"web_{name}"))
                         for name in SERVICES}
        config = LocalConfig(port=free_port(), data_dir=tmp_path_factory.mktemp("data"), seed_demo=False,
                             database_urls=database_urls, workers=1, job_interval_seconds=3600,
                             extra_env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mailbox.port),
                                        "SMTP_STARTTLS": "false", "LOG_LEVEL": "WARNING"})
        yield stack.enter_context(LocalPlatform(config, dict(os.environ)))


@pytest.fixture(scope="package")
def api(platform: LocalPlatform) -> Api:
    """The public API through the gateway, for what a test sets up as someone else (a vendor, the admin)."""
    return Api(platform.config.public_url)


def web_settings(platform: LocalPlatform, database_url: str, **overrides: Any) -> Settings:
    urls = {f"{name}_url": platform.config.service_url(name) for name in SERVICES if name != "web"}
    # Nothing kept (pages, categories) unless a test asks (test_page_cache): a test sees what the API says now.
    return Settings(database_url=database_url, service_client_secret="web-tests-secret", log_format="text",
                    log_level="WARNING", http_backoff_seconds=0.01, **{"page_cache_seconds": 0, "categories_cache_seconds": 0, **urls, **overrides})


@pytest.fixture(scope="package")
def web_database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, "web") as url:
        yield url


@pytest.fixture(scope="package")
def app(platform: LocalPlatform, web_database: str) -> Iterator[Flask]:
    with migrated(create_app(web_settings(platform, web_database))) as app:
        yield app


@pytest.fixture()
def settings(app: Flask) -> Iterator[Settings]:
    """The running app's settings; a test may change them, they are restored afterwards."""
    running = current(WebDependencies, app).settings
    saved = running.model_dump()
    yield running
    for name, value in saved.items():
        setattr(running, name, value)


class PageClient:
    """The test client as one person's browser: pages, their forms' CSRF tokens, the cookie it holds."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        found = CSRF_FIELD.search(page.get_data(as_text=True))
        assert found, f"{path} has no form token"
        return html.unescape(found.group(1))

    def submit(self, form_page: str, action: str, **fields: Any) -> TestResponse:
        """Post a form as the page at `form_page` offers it (with that page's CSRF token)."""
        return self.client.post(action, data={"csrf_token": self.csrf_token(form_page), **fields})

    def text(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:2000])
        return response.get_data(as_text=True)

    def session_cookie(self) -> str | None:
        cookie = self.client.get_cookie("storefront_session")
        return cookie.value if cookie else None


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        truncate_all(db.engine, db.metadata)


@pytest.fixture()
def visitor(client: FlaskClient) -> PageClient:
    return PageClient(client)


@dataclass
class Shopper:
    email: str
    password: str
    visitor: PageClient


def register(visitor: PageClient, role: str = "customer", **fields: Any) -> TestResponse:
    body = {"first_name": "Ada", "last_name": "Obi", "email": f"{role}-{uuid.uuid4().hex[:10]}@example.com",
            "password": PASSWORD, "role": role, **fields}
    return visitor.submit("/register", "/register", **body)


@pytest.fixture()
def shopper(visitor: PageClient, mailbox: Mailbox) -> Shopper:
    """A customer who registered and is logged in, through the pages."""
    address = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
    answer = register(visitor, email=address)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    return Shopper(address, PASSWORD, visitor)


@pytest.fixture(scope="package")
def admin(api: Api, platform: LocalPlatform) -> Account:
    return api.login(platform.config.admin_email, platform.config.admin_password)


@pytest.fixture(scope="package")
def category(api: Api, admin: Account) -> dict[str, Any]:
    return api.expect(201, "POST", "/api/v1/categories", admin,
                      json={"name": f"Pantry {uuid.uuid4().hex[:6]}", "attributes": ["size"]})


@pytest.fixture(scope="package")
def vendor(api: Api) -> Account:
    return api.sign_up("vendor")


@pytest.fixture()
def make_product(api: Api, vendor: Account, category: dict[str, Any]):  # type: ignore[no-untyped-def]
    def make(name: str | None = None, price: int = 250_000, stock: int = 10, **fields: Any) -> dict[str, Any]:
        body = {"name": name or f"Shea butter {uuid.uuid4().hex[:6]}", "price": price, "stock": stock,
                "category_id": category["id"], "attributes": {"size": "250ml"}, **fields}
        return api.expect(201, "POST", "/api/v1/products", vendor, json=body)

    return make
