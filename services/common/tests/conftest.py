from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.common.tests.demo_app import create_app, db
from storefront_common.settings import CommonSettings
from storefront_common.testing.databases import fresh_database, truncate_all
from storefront_common.testing.tokens import TEST_ISSUER



@pytest.fixture(scope="session")
def app(postgres_admin_url: str, jwks_url: str) -> Iterator[Flask]:
    with fresh_database(postgres_admin_url, "common") as url:
        settings = CommonSettings(service_name="demo", database_url=url, jwks_url=jwks_url,
                                  jwt_issuer=TEST_ISSUER, log_format="json")
        app = create_app(settings)
        with app.app_context():
            db.create_all()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        truncate_all(db.engine, db.metadata)
