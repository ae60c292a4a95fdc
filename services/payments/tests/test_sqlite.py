"""The local runner keeps the payments database in SQLite: the money paths must hold there too."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from services.payments.tests.conftest import Stack, pay_order, run_cli, running_stack, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth, SigningKey, TokenFactory
from storefront_payments.dependencies import db
from storefront_payments.ledger import check_ledger


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory, jwks_url: str, tokens: TokenFactory,
                 signing_key: SigningKey) -> Iterator[Stack]:
    database = Path(tmp_path_factory.mktemp("payments-sqlite")) / "payments.db"
    with running_stack(f"sqlite:///{database}", jwks_url, tokens, signing_key) as running:
        yield running


def test_money_paths_on_sqlite(sqlite_stack: Stack, auth: Auth) -> None:
    stack, app, client = sqlite_stack, sqlite_stack.app, HttpClient(sqlite_stack.base_url, requests.Session())
    buyer, vendor = sign_in(client, auth), sign_in(client, auth, "vendor")
    stack.fund(buyer, 10_000)
    stack.replay(buyer.get("/api/v1/wallet/transactions").json()["items"][0]["reference"])
    assert buyer.balance() == 10_000
    paid, refunded, short = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    split = [{"vendor_id": str(vendor.id), "amount": 4_000}]
    assert pay_order(client, auth, buyer, 4_000, order_id=paid, splits=split).status_code == 201
    assert pay_order(client, auth, buyer, 4_000, order_id=paid, splits=split).status_code == 200
    assert pay_order(client, auth, buyer, 4_000, order_id=refunded).status_code == 201
    assert pay_order(client, auth, buyer, 4_000, order_id=short).status_code == 402
    assert client.post(f"/internal/payments/{refunded}/refund", headers=auth.service("orders"),
                       timeout=10).json()["status"] == "refunded"
    assert vendor.get("/api/v1/wallet").json()["escrow_pending"] == 4_000
    released = client.post(f"/internal/escrow/{paid}/release", json={"splits": split},
                           headers=auth.service("orders"), timeout=10)
    assert released.status_code == 200
    assert (buyer.balance(), vendor.balance()) == (6_000, 4_000)
    reference = pay_order(client, auth, buyer, 1_000, "paystack").json()["reference"]
    stack.simulator_config.webhook_url = None
    stack.complete(reference)
    run_cli(app, "reverify-payments", "--older-than", "0")
    assert len(stack.orders.events) == 1
    with app.app_context():
        assert check_ledger(db.session) == []
