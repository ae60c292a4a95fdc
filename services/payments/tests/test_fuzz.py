from __future__ import annotations

from collections.abc import Callable

from prometheus_client import REGISTRY

from services.payments.tests.conftest import ACCOUNT, sign_in
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.fuzz import FuzzReport, fuzz_service, token_callers
from storefront_common.testing.tokens import Auth

WEBHOOK = "/api/v1/payments/paystack/webhook"


def webhook_answers() -> dict[str, float]:
    """How often the webhook answered each status so far (the service runs in this process)."""
    counts: dict[str, float] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == "http_requests_total" and sample.labels.get("endpoint") == WEBHOOK:
                counts[sample.labels["status"]] = counts.get(sample.labels["status"], 0) + sample.value
    return counts


def test_every_answer_is_documented_for_every_caller(
        client: HttpClient, auth: Auth, fuzz_note: Callable[[str, FuzzReport], None]) -> None:
    vendor = sign_in(client, auth, "vendor")
    vendor.put("/api/v1/wallet/payout-account", ACCOUNT)
    callers = token_callers(auth.tokens, {"vendor": vendor.id}, fresh_idempotency_key=True)
    before = webhook_answers()
    report = fuzz_service(client.base_url, callers)
    fuzz_note("payments", report)
    report.assert_documented(12)
    after = webhook_answers()
    grown = {status: after[status] - before.get(status, 0) for status in after if after[status] != before.get(status)}
    assert set(grown) == {"401", "413"} and grown["401"] >= 10  # unsigned, whoever sends it: never applied, never 5xx
    assert grown["413"] == len(callers)  # the hostile body over the size limit, refused before it is read
