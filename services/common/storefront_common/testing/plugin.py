"""Pytest fixtures every suite may use (the repository's root conftest.py loads this plugin)."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from .fuzz import FuzzReport
from .postgres import ENV_VAR, PostgresServer
from .servers import serve_wsgi
from .tokens import TEST_ISSUER, Auth, SigningKey, TokenFactory, jwks_app


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The private test server `make test` started, or one started for this session alone."""
    if os.environ.get(ENV_VAR):
        yield os.environ[ENV_VAR]
        return
    with PostgresServer() as server:
        yield server.admin_url


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture(scope="session")
def tokens(signing_key: SigningKey) -> TokenFactory:
    return TokenFactory(signing_key, TEST_ISSUER)


@pytest.fixture
def auth(tokens: TokenFactory) -> Auth:
    """Headers for a customer, vendor, admin or service; a suite whose service issues tokens overrides it."""
    return Auth(tokens)


@pytest.fixture(scope="session")
def jwks_url(signing_key: SigningKey) -> Iterator[str]:
    """The JWKS served over real HTTP, as the users service would serve it."""
    with serve_wsgi(jwks_app([signing_key])) as base_url:
        yield f"{base_url}/.well-known/jwks.json"


FUZZ_PROPERTY = "fuzz cases"


@pytest.fixture
def fuzz_note(request: pytest.FixtureRequest) -> Callable[[str, FuzzReport], None]:
    """`fuzz_note(service, report)`: the report's case counts, printed at the end of the run."""
    return lambda service, report: request.node.user_properties.append((FUZZ_PROPERTY, report.summary(service)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    notes = [value for outcome in ("passed", "failed") for report in terminalreporter.stats.get(outcome, [])
             for name, value in getattr(report, "user_properties", []) if name == FUZZ_PROPERTY]
    if notes:
        terminalreporter.write_sep("-", "conformance fuzz: cases per caller")
        for note in notes:
            terminalreporter.write_line(str(note))
