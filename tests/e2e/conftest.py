"""End-to-end: the whole platform (five services, simulator, gateway) on PostgreSQL, over real HTTP."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from storefront_dev.shop_api import Account, Api
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.servers import free_port
from storefront_dev.runner.config import LocalConfig
from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.runner.routes import SERVICES
from storefront_payments.ledger import check_ledger



@pytest.fixture(scope="package")
def platform(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with ExitStack() as stack:
        database_urls = {name: stack.enter_context(fresh_database(postgres_admin_url, f"e2e_{name}"))
                         for name in SERVICES}
        config = LocalConfig(port=free_port(), data_dir=tmp_path_factory.mktemp("data"), seed_demo=False,
                             database_urls=database_urls, workers=2, job_interval_seconds=3600)
        yield stack.enter_context(LocalPlatform(config, dict(os.environ)))


@pytest.fixture(scope="package")
def api(platform: LocalPlatform) -> Api:
    return Api(platform.config.public_url)


@pytest.fixture(scope="package")
def admin(api: Api, platform: LocalPlatform) -> Account:
    return api.login(platform.config.admin_email, platform.config.admin_password)


@pytest.fixture(scope="package")
def category(api: Api, admin: Account) -> dict[str, Any]:
    return api.expect(201, "POST", "/api/v1/categories", admin,
                      json={"name": f"Pantry {uuid.uuid4().hex[:6]}", "attributes": ["size"]})


@pytest.fixture()
def vendor(api: Api) -> Account:
    return api.sign_up("vendor")


@pytest.fixture()
def customer(api: Api) -> Account:
    return api.sign_up("customer")


@pytest.fixture()
def make_product(api: Api, vendor: Account, category: dict[str, Any]):  # type: ignore[no-untyped-def]
    def make(price: int = 250_000, stock: int = 10, owner: Account | None = None) -> dict[str, Any]:
        body = {"name": f"Shea butter {uuid.uuid4().hex[:6]}", "price": price, "stock": stock,
                "category_id": category["id"], "attributes": {"size": "250ml"}}
        return api.expect(201, "POST", "/api/v1/products", owner or vendor, json=body)

    return make


@pytest.fixture(autouse=True)
def ledger_stays_balanced(platform: LocalPlatform) -> Iterator[None]:
    """After every test: entries sum to zero, no wallet is negative, balances equal their entries."""
    yield
    engine = create_engine(platform.config.database_url("payments"))
    try:
        with Session(engine) as session:
            assert check_ledger(session) == []
    finally:
        engine.dispose()
