"""The merged public document through the gateway (/api/openapi.json), fuzzed as a client of `make up` meets it."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import requests

from storefront_common.testing.fuzz import ANONYMOUS, FuzzReport, HeadersFor, fuzz_service
from storefront_dev.shop_api import Account, Api
from storefront_dev.runner.platform import LocalPlatform

EXAMPLES = 3
PRIVATE = ("/healthz", "/readyz", "/metrics", "/openapi.json")


def _caller(account: Account) -> HeadersFor:
    return lambda method, path: {**account.headers, "Idempotency-Key": uuid.uuid4().hex}


def test_the_public_document_merges_the_public_paths_of_every_service(api: Api) -> None:
    document = requests.get(f"{api.base_url}/api/openapi.json", timeout=10).json()
    paths = list(document["paths"])
    assert not [path for path in paths if path.startswith("/internal/") or path in PRIVATE], paths
    services = {path.split("/")[3] for path in paths if path.startswith("/api/v1/")}
    assert {"auth", "users", "products", "cart", "orders", "wallet", "payments"} <= services, services


def test_every_public_operation_answers_as_the_public_document_says(
        platform: LocalPlatform, api: Api, admin: Account, fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    callers = {"anonymous": ANONYMOUS, "customer": _caller(api.sign_up("customer")),
               "vendor": _caller(api.sign_up("vendor")), "admin": _caller(admin)}
    report = fuzz_service(platform.config.public_url, callers, max_examples=EXAMPLES,
                          document_path="/api/openapi.json")
    fuzz_note("gateway", report)
    document = requests.get(f"{api.base_url}/api/openapi.json", timeout=10).json()
    report.assert_documented(sum(len(methods) for methods in document["paths"].values()), EXAMPLES)
