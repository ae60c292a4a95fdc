from __future__ import annotations

import email
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
import jwt
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from storefront_common.testing.databases import fresh_database, migrated, truncate_all
from storefront_common.testing.servers import free_port
from storefront_common.testing.tokens import TEST_ISSUER
from storefront_users.accounts import ensure_first_admin
from storefront_users.app import create_app
from storefront_users.dependencies import db, deps
from storefront_users.settings import Settings
from storefront_users.signing_keys import public_jwk, thumbprint


ADMIN_EMAIL = "root@storefront.test"
ADMIN_PASSWORD = "admin-password-1"
SERVICE_CLIENT_ID = "orders"
SERVICE_CLIENT_SECRET = "orders-client-secret"
VERIFY_LINK = "/verify-email"
RESET_LINK = "/reset-password"
PASSWORD = "correct horse battery"


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def jwks_of(*keys: rsa.RSAPrivateKey) -> str:
    return json.dumps({"keys": [{**public_jwk(key.public_key()), "kid": thumbprint(key.public_key())}
                                for key in keys]})


class Mailbox:
    """An aiosmtpd handler that keeps every received message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    def token_for(self, address: str, link: str = VERIFY_LINK, timeout: float = 10.0) -> str:
        """The one-time token of the last mail to the address with that link, waiting for it to arrive."""
        pattern = re.compile(re.escape(link) + r"\?token=([A-Za-z0-9_\-]+)")
        deadline = time.monotonic() + timeout
        while True:
            found = [match.group(1) for message in self.to(address)
                     if (match := pattern.search(message.get_content()))]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, f"no mail with {link} reached {address}"
            time.sleep(0.02)


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture(scope="session")
def active_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def previous_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def database_url(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, "users") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, mailbox: Mailbox, active_key: rsa.RSAPrivateKey, previous_key: rsa.RSAPrivateKey,
             tmp_path_factory: pytest.TempPathFactory) -> Settings:
    client_hash = hashlib.sha256(SERVICE_CLIENT_SECRET.encode()).hexdigest()
    return Settings(
        database_url=database_url, environment="production", jwt_issuer=TEST_ISSUER,
        jwt_private_key=private_pem(active_key), jwt_previous_public_keys=jwks_of(previous_key),
        data_dir=str(tmp_path_factory.mktemp("data")),
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_starttls=False,
        public_url="https://shop.storefront.test",
        service_clients=f"{SERVICE_CLIENT_ID}:{client_hash},carts:{'0' * 64}",
        storefront_admin_email=ADMIN_EMAIL, storefront_admin_password=ADMIN_PASSWORD,
        log_format="json")


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    with migrated(create_app(settings)) as app:
        yield app


@pytest.fixture()
def client(app: Flask, mailbox: Mailbox) -> Iterator[FlaskClient]:
    mailbox.clear()
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        truncate_all(db.engine, db.metadata)


class AuthActions:
    """Registers and logs in through the API, as the Flask tutorial's AuthActions do; the users service
    issues its tokens itself, so its tests get them this way rather than from the plugin's Auth."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def register(self, email: str, password: str = PASSWORD, **fields: Any) -> dict[str, Any]:
        body = {"email": email, "password": password, "first_name": "Ada", "last_name": "Lovelace", **fields}
        response = self._client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.json
        return dict(response.json or {})

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self._client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return dict(response.json or {})

    def registered_session(self, email: str, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new account and a token pair for it."""
        user = self.register(email, **fields)
        return user, self.login(email)

    def admin(self) -> dict[str, Any]:
        """A token pair for the first admin (made again first: each test starts from empty tables)."""
        with self._client.application.app_context():
            ensure_first_admin(deps().settings)
        return self.login(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture()
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
