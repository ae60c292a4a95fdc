"""The Paystack simulator over real HTTP, with a real webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from storefront_dev.paystack_sim import SimulatorConfig, create_app
from storefront_dev.paystack_sim.banks import UNRESOLVABLE_ACCOUNT_NUMBER

SECRET = "sk_test_simulator_0123456789"
TIMEOUT = 5

WsgiApp = Callable[..., Any]
Serve = Callable[[WsgiApp], str]


class WebhookReceiver:
    """A WSGI app that records every request's headers and exact raw body."""

    def __init__(self, status: int = 200, on_event: Callable[[bytes], None] | None = None) -> None:
        self.status = status
        self.on_event = on_event
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if self.on_event is not None:
            self.on_event(body)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        with self._changed:
            self.received.append((headers, body))
            self._changed.notify_all()
        start_response(f"{self.status} Receiver", [("Content-Type", "text/plain")])
        return [b"ok"]

    def wait_for(self, count: int, timeout: float = TIMEOUT) -> list[tuple[dict[str, str], bytes]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@dataclass
class Sim:
    url: str
    receiver: WebhookReceiver

    def api(self, method: str, path: str, key: str | None = SECRET, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        return requests.request(method, self.url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.url + "/_simulator" + path, timeout=TIMEOUT, **kwargs)

    def initialize(self, **fields: Any) -> dict[str, Any]:
        response = self.api("POST", "/transaction/initialize", json={"email": "ada@example.com", "amount": 500000, **fields})
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers = []

    def _serve(app: WsgiApp) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield _serve
    for server in servers:
        server.shutdown()
        server.server_close()


def start_sim(
    serve: Serve,
    receiver: WebhookReceiver,
    webhook_url: str | None = None,
    prefix: str = "",
    public_url: str | None = None,
) -> Sim:
    url_of_receiver = serve(receiver)
    config = SimulatorConfig(
        secret_key=SECRET, webhook_url=webhook_url or url_of_receiver + "/paystack/webhook", public_url=public_url
    )
    app: WsgiApp = create_app(config)
    if prefix:
        # As the local runner does: the simulator lives under a path prefix.
        app = DispatcherMiddleware(lambda environ, start: [], {prefix: app})
    return Sim(serve(app) + prefix, receiver)


@pytest.fixture
def sim(serve: Serve) -> Sim:
    return start_sim(serve, WebhookReceiver())


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"


def signature_of(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()


def form_action(html: str, label: str) -> str:
    match = re.search(rf'<form method="post" action="([^"]+)">\s*<button[^>]*>{label}', html)
    assert match, f"no {label} form in page"
    return match.group(1)


def back_link(html: str) -> str:
    match = re.search(r'<a class="button" href="([^"]+)">Return to the shop</a>', html)
    assert match, "no way back to the shop in page"
    return match.group(1).replace("&amp;", "&")


def test_checkout_under_a_prefix_pays_and_links_back_to_the_callback(serve: Serve) -> None:
    sim = start_sim(serve, WebhookReceiver(), prefix="/_paystack")
    init = sim.initialize(reference="order-1001", callback_url="http://shop.test/payments/callback?lang=en")
    assert init["authorization_url"] == f"{sim.url}/checkout/{init['access_code']}"

    unpaid = sim.api("GET", "/transaction/verify/order-1001").json()["data"]
    assert (unpaid["status"], unpaid["paid_at"], unpaid["gateway_response"]) == (
        "abandoned",
        None,
        "The transaction was not completed",
    )

    page = requests.get(init["authorization_url"], timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "5,000.00" in page.text and "NGN" in page.text and "ada@example.com" in page.text
    assert "order-1001" in page.text
    form_action(page.text, "Decline")
    pay_url = urljoin(page.url, form_action(page.text, "Pay"))
    assert pay_url.startswith(sim.url + "/checkout/")

    paid = requests.post(pay_url, allow_redirects=False, timeout=TIMEOUT)
    assert paid.status_code == 303
    outcome = requests.get(urljoin(pay_url, paid.headers["Location"]), timeout=TIMEOUT)
    assert outcome.url == init["authorization_url"]
    assert "Payment successful" in outcome.text and "<form" not in outcome.text
    back = urlsplit(back_link(outcome.text))
    assert (back.netloc, back.path) == ("shop.test", "/payments/callback")
    # As Paystack does: the callback URL's own query, then trxref and reference.
    assert back.query == "lang=en&trxref=order-1001&reference=order-1001"

    verified = sim.api("GET", "/transaction/verify/order-1001").json()
    assert verified["status"] is True
    data = verified["data"]
    assert (data["status"], data["amount"], data["currency"], data["domain"]) == ("success", 500000, "NGN", "test")
    assert data["paid_at"] and data["customer"]["email"] == "ada@example.com"
    assert data["authorization"]["reusable"] is True
    assert data["authorization"]["authorization_code"].startswith("AUTH_")
    assert [e["event"] for e in sim.receiver.events()] == ["charge.success"]


def test_authorization_url_uses_the_configured_public_url(serve: Serve) -> None:
    sim = start_sim(serve, WebhookReceiver(), public_url="http://shop.test:8080/_paystack/")
    init = sim.initialize()
    assert init["authorization_url"] == f"http://shop.test:8080/_paystack/checkout/{init['access_code']}"


def test_declining_fails_the_transaction_and_shows_a_result_page(serve: Serve) -> None:
    sim = start_sim(serve, WebhookReceiver(), prefix="/_paystack")
    init = sim.initialize(reference="order-decline", amount="125050")
    page = requests.get(init["authorization_url"], timeout=TIMEOUT)
    assert "1,250.50" in page.text

    declined = requests.post(urljoin(page.url, form_action(page.text, "Decline")), timeout=TIMEOUT)
    assert declined.url == init["authorization_url"]
    assert "Payment declined" in declined.text
    assert sim.api("GET", "/transaction/verify/order-decline").json()["data"]["status"] == "failed"
    assert sim.receiver.received == []

    assert "Return to the shop" not in declined.text  # no callback_url: nowhere to link back to
    assert "close this page" in declined.text

    # A Pay from the stale checkout page: 409, and the page still tells the one outcome that stands.
    again = requests.post(urljoin(page.url, form_action(page.text, "Pay")), timeout=TIMEOUT)
    assert again.status_code == 409
    assert "Payment declined" in again.text
    assert "successful" not in again.text and "already" not in again.text
    assert sim.api("GET", "/transaction/verify/order-decline").json()["data"]["status"] == "failed"


def test_a_settled_checkout_shows_its_outcome_and_the_way_back_not_a_form(sim: Sim) -> None:
    init = sim.initialize(reference="order-revisit", callback_url="http://shop.test/orders/7")
    assert sim.control("POST", "/transactions/order-revisit/complete", json={"outcome": "success"}).status_code == 200
    page = requests.get(init["authorization_url"], timeout=TIMEOUT)
    assert page.status_code == 200 and "Payment successful" in page.text
    assert "<form" not in page.text and "Decline" not in page.text
    assert back_link(page.text) == "http://shop.test/orders/7?trxref=order-revisit&reference=order-revisit"


def test_checkout_pages_load_nothing_and_cannot_be_framed(sim: Sim) -> None:
    init = sim.initialize()
    policy = requests.get(init["authorization_url"], timeout=TIMEOUT).headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


def test_hostile_email_is_escaped_on_the_checkout_page(sim: Sim) -> None:
    hostile = "<img/src=x/onerror=alert(1)>@evil.example"
    init = sim.initialize(email=hostile)
    page = requests.get(init["authorization_url"], timeout=TIMEOUT).text
    assert "<img" not in page
    assert "&lt;img/src=x/onerror=alert(1)&gt;@evil.example" in page


def test_wrong_or_missing_secret_key_is_refused(sim: Sim) -> None:
    for key in ("sk_test_wrong", None):
        response = sim.api("POST", "/transaction/initialize", key=key, json={"email": "a@example.com", "amount": 100})
        assert response.status_code == 401
        assert response.json() == {"status": False, "message": "Invalid key"}
    assert sim.control("GET", "/transactions").json()["transactions"] == []


def test_reused_reference_is_a_duplicate(sim: Sim) -> None:
    sim.initialize(reference="order-dup")
    again = sim.api("POST", "/transaction/initialize", json={"email": "b@example.com", "amount": 100, "reference": "order-dup"})
    assert again.status_code == 400
    body = again.json()
    assert (body["status"], body["message"], body["code"]) == (False, "Duplicate Transaction Reference", "duplicate_reference")


@pytest.mark.parametrize("amount", [50.5, "12.50", "abc", 0, -100, None, True])
def test_invalid_amounts_are_refused(sim: Sim, amount: Any) -> None:
    response = sim.api("POST", "/transaction/initialize", json={"email": "a@example.com", "amount": amount})
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid Amount Sent"


def test_verify_of_an_unknown_reference_is_404(sim: Sim) -> None:
    response = sim.api("GET", "/transaction/verify/no-such-ref")
    assert response.status_code == 404
    assert response.json()["message"] == "Transaction reference not found"


def test_complete_delivers_a_signed_webhook_before_answering(sim: Sim) -> None:
    sim.initialize(reference="order-hook", metadata={"order_id": "o-1"})
    answer = sim.control("POST", "/transactions/order-hook/complete", json={"outcome": "success"})
    assert answer.status_code == 200
    assert answer.json()["webhook_status"] == 200
    # Already delivered when the control API answered: no waiting.
    assert len(sim.receiver.received) == 1
    headers, body = sim.receiver.received[0]
    assert headers["content-type"] == "application/json"
    assert hmac.compare_digest(headers["x-paystack-signature"], signature_of(body))
    event = json.loads(body)
    assert event["event"] == "charge.success"
    assert (event["data"]["reference"], event["data"]["amount"], event["data"]["status"]) == ("order-hook", 500000, "success")
    assert event["data"]["metadata"] == {"order_id": "o-1"}


def test_receiver_may_verify_while_the_webhook_is_being_delivered(serve: Serve) -> None:
    seen: list[str] = []
    receiver = WebhookReceiver(on_event=lambda body: seen.append(verify_status(sim, json.loads(body)["data"]["reference"])))
    sim = start_sim(serve, receiver)
    sim.initialize(reference="order-nested")
    answer = sim.control("POST", "/transactions/order-nested/complete", json={"outcome": "success"})
    assert answer.json()["webhook_status"] == 200
    assert seen == ["success"]


def verify_status(sim: Sim, reference: str) -> str:
    response = sim.api("GET", f"/transaction/verify/{reference}")
    return str(response.json()["data"]["status"])


def test_replay_sends_identical_bytes(sim: Sim) -> None:
    sim.initialize(reference="order-replay")
    sim.control("POST", "/transactions/order-replay/complete", json={"outcome": "success"})
    replayed = sim.control("POST", "/webhooks/order-replay/replay")
    assert replayed.json()["webhook_status"] == 200
    (first_headers, first), (second_headers, second) = sim.receiver.wait_for(2)
    assert first == second
    assert first_headers["x-paystack-signature"] == second_headers["x-paystack-signature"]
    assert sim.control("POST", "/webhooks/never-sent/replay").status_code == 404


def test_settling_twice_is_refused_and_sends_nothing_more(sim: Sim) -> None:
    sim.initialize(reference="order-twice")
    sim.control("POST", "/transactions/order-twice/complete", json={"outcome": "success"})
    again = sim.control("POST", "/transactions/order-twice/complete", json={"outcome": "failed"})
    assert again.status_code == 409
    assert again.json()["status"] == "success"
    assert len(sim.receiver.received) == 1
    assert sim.control("POST", "/transactions/order-twice/complete", json={"outcome": "paid"}).status_code == 400
    assert sim.control("POST", "/transactions/nope/complete", json={"outcome": "success"}).status_code == 404


def test_unreachable_webhook_reports_0_and_the_payment_still_verifies(serve: Serve) -> None:
    sim = start_sim(serve, WebhookReceiver(), webhook_url=closed_port_url())
    sim.initialize(reference="order-lost-hook")
    answer = sim.control("POST", "/transactions/order-lost-hook/complete", json={"outcome": "success"})
    assert answer.status_code == 200
    assert answer.json()["webhook_status"] == 0
    assert sim.api("GET", "/transaction/verify/order-lost-hook").json()["data"]["status"] == "success"
    deliveries = sim.control("GET", "/transactions").json()["webhooks"]
    assert [(d["event"], d["status_code"]) for d in deliveries] == [("charge.success", 0)]


def test_receiver_errors_are_reported_not_raised(serve: Serve) -> None:
    sim = start_sim(serve, WebhookReceiver(status=500))
    sim.initialize(reference="order-500")
    answer = sim.control("POST", "/transactions/order-500/complete", json={"outcome": "success"})
    assert answer.json()["webhook_status"] == 500
    assert sim.control("POST", "/webhooks/order-500/replay").json()["webhook_status"] == 500


def test_charge_authorization_charges_the_saved_card_at_once(sim: Sim) -> None:
    sim.initialize(reference="order-card")
    sim.control("POST", "/transactions/order-card/complete", json={"outcome": "success"})
    code = sim.api("GET", "/transaction/verify/order-card").json()["data"]["authorization"]["authorization_code"]

    charge = sim.api(
        "POST",
        "/transaction/charge_authorization",
        json={"authorization_code": code, "email": "ada@example.com", "amount": "7500", "reference": "order-card-2"},
    )
    assert charge.status_code == 200
    data = charge.json()["data"]
    assert (data["status"], data["amount"], data["reference"]) == ("success", 7500, "order-card-2")
    events = [json.loads(body) for _, body in sim.receiver.wait_for(2)]
    assert (events[1]["event"], events[1]["data"]["reference"]) == ("charge.success", "order-card-2")

    wrong_email = sim.api(
        "POST", "/transaction/charge_authorization", json={"authorization_code": code, "email": "eve@example.com", "amount": 100}
    )
    assert wrong_email.status_code == 400
    unknown = sim.api(
        "POST", "/transaction/charge_authorization", json={"authorization_code": "AUTH_nope", "email": "ada@example.com", "amount": 100}
    )
    assert unknown.status_code == 400


def test_refund_settles_and_sends_refund_processed(sim: Sim) -> None:
    sim.initialize(reference="order-refund")
    unpaid = sim.api("POST", "/refund", json={"transaction": "order-refund"})
    assert unpaid.status_code == 400
    sim.control("POST", "/transactions/order-refund/complete", json={"outcome": "success"})

    too_much = sim.api("POST", "/refund", json={"transaction": "order-refund", "amount": 500001})
    assert too_much.status_code == 400
    refund = sim.api("POST", "/refund", json={"transaction": "order-refund"})
    assert refund.status_code == 200
    data = refund.json()["data"]
    assert (data["status"], data["amount"], data["transaction"]["reference"]) == ("pending", 500000, "order-refund")

    settled = sim.control("POST", f"/refunds/{data['id']}/complete", json={"outcome": "processed"})
    assert settled.json()["webhook_status"] == 200
    headers, body = sim.receiver.received[-1]
    assert headers["x-paystack-signature"] == signature_of(body)
    event = json.loads(body)
    assert event["event"] == "refund.processed"
    assert (event["data"]["transaction_reference"], event["data"]["amount"]) == ("order-refund", 500000)
    assert sim.api("GET", "/transaction/verify/order-refund").json()["data"]["status"] == "reversed"
    assert sim.api("POST", "/refund", json={"transaction": "order-refund"}).status_code == 400
    assert sim.control("POST", f"/refunds/{data['id']}/complete", json={"outcome": "failed"}).status_code == 409


def test_failed_partial_refund_frees_the_amount_again(sim: Sim) -> None:
    sim.initialize(reference="order-partial")
    sim.control("POST", "/transactions/order-partial/complete", json={"outcome": "success"})
    refund = sim.api("POST", "/refund", json={"transaction": "order-partial", "amount": 400000}).json()["data"]
    assert sim.api("POST", "/refund", json={"transaction": "order-partial", "amount": 200000}).status_code == 400

    sim.control("POST", f"/refunds/{refund['id']}/complete", json={"outcome": "failed"})
    assert sim.receiver.events()[-1]["event"] == "refund.failed"
    assert sim.api("GET", "/transaction/verify/order-partial").json()["data"]["status"] == "success"
    assert sim.api("POST", "/refund", json={"transaction": "order-partial", "amount": 200000}).status_code == 200


def fetch_refund(sim: Sim, refund_id: Any, key: str | None = SECRET) -> requests.Response:
    return sim.api("GET", f"/refund/{refund_id}", key=key)


def test_fetch_refund_shows_each_status_as_it_settles(serve: Serve) -> None:
    # No receiver: a refund whose webhook is lost is still known to GET /refund/{id}.
    sim = start_sim(serve, WebhookReceiver(), webhook_url=closed_port_url())
    sim.initialize(reference="order-fetch")
    sim.control("POST", "/transactions/order-fetch/complete", json={"outcome": "success"})
    transaction_id = sim.api("GET", "/transaction/verify/order-fetch").json()["data"]["id"]
    created = sim.api("POST", "/refund", json={"transaction": "order-fetch", "amount": 200000}).json()["data"]

    pending = fetch_refund(sim, created["id"])
    assert pending.status_code == 200
    assert (pending.json()["status"], pending.json()["message"]) == (True, "Refund retrieved")
    data = pending.json()["data"]
    assert (data["id"], data["status"], data["amount"], data["currency"]) == (created["id"], "pending", 200000, "NGN")
    assert (data["transaction"], data["transaction_reference"], data["transaction_amount"]) == (
        transaction_id, "order-fetch", 500000)
    assert (data["refunded_at"], data["deducted_amount"], data["refund_type"]) == (None, 0, "partial")
    assert data["customer"]["email"] == "ada@example.com"

    sim.control("POST", f"/refunds/{created['id']}/complete", json={"outcome": "processed"})
    processed = fetch_refund(sim, created["id"]).json()["data"]
    assert (processed["status"], processed["deducted_amount"]) == ("processed", 200000)
    assert processed["refunded_at"] is not None

    second = sim.api("POST", "/refund", json={"transaction": "order-fetch"}).json()["data"]
    sim.control("POST", f"/refunds/{second['id']}/complete", json={"outcome": "failed"})
    failed = fetch_refund(sim, second["id"]).json()["data"]
    assert (failed["status"], failed["amount"], failed["refunded_at"]) == ("failed", 300000, None)


def test_fetch_refund_needs_the_key_and_an_existing_id(sim: Sim) -> None:
    for unknown in (424242, "not-a-number", "1" * 40):
        response = fetch_refund(sim, unknown)
        assert response.status_code == 404
        assert response.json() == {"status": False, "message": "Refund not found", "type": "validation_error",
                                   "code": "refund_not_found"}
    for key in ("sk_test_wrong", None):
        response = fetch_refund(sim, 424242, key=key)
        assert (response.status_code, response.json()) == (401, {"status": False, "message": "Invalid key"})


def test_banks_list_and_account_resolution(sim: Sim) -> None:
    banks = sim.api("GET", "/bank", params={"currency": "NGN"}).json()["data"]
    gtb = next(bank for bank in banks if bank["code"] == "058")
    assert (gtb["name"], gtb["type"], gtb["currency"], gtb["active"]) == ("Guaranty Trust Bank", "nuban", "NGN", True)

    first = sim.api("GET", "/bank/resolve", params={"account_number": "0123456789", "bank_code": "058"})
    assert first.status_code == 200
    data = first.json()["data"]
    assert (data["account_number"], data["bank_id"]) == ("0123456789", gtb["id"])
    assert data["account_name"]
    again = sim.api("GET", "/bank/resolve", params={"account_number": "0123456789", "bank_code": "058"})
    assert again.json()["data"]["account_name"] == data["account_name"]

    for account_number, bank_code in ((UNRESOLVABLE_ACCOUNT_NUMBER, "058"), ("012345678", "058"), ("0123456789", "999")):
        failed = sim.api("GET", "/bank/resolve", params={"account_number": account_number, "bank_code": bank_code})
        assert failed.status_code == 422
        assert failed.json()["status"] is False
        assert failed.json()["message"].startswith("Could not resolve account name")


def _recipient(sim: Sim) -> str:
    response = sim.api(
        "POST",
        "/transferrecipient",
        json={"type": "nuban", "name": "Vendor One", "account_number": "0123456789", "bank_code": "058", "currency": "NGN"},
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["details"]["bank_name"] == "Guaranty Trust Bank"
    assert data["recipient_code"].startswith("RCP_")
    return data["recipient_code"]


def test_transfers_settle_and_send_their_events(sim: Sim) -> None:
    recipient = _recipient(sim)
    assert _recipient(sim) == recipient  # same account: Paystack returns the existing recipient

    body = {"source": "balance", "amount": 250000, "recipient": recipient, "reason": "payout", "reference": "payout-0000000000001"}
    created = sim.api("POST", "/transfer", json=body)
    assert created.status_code == 200
    data = created.json()["data"]
    assert (data["status"], data["amount"], data["reference"]) == ("pending", 250000, "payout-0000000000001")
    assert data["transfer_code"].startswith("TRF_")
    duplicate = sim.api("POST", "/transfer", json=body)
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "duplicate_reference")

    assert sim.control("POST", "/transfers/payout-0000000000001/complete", json={"outcome": "success"}).json()["webhook_status"] == 200
    assert sim.control("POST", "/transfers/payout-0000000000001/complete", json={"outcome": "failed"}).status_code == 409
    sim.control("POST", "/transfers/payout-0000000000001/complete", json={"outcome": "reversed"})
    sim.api("POST", "/transfer", json={**body, "reference": "payout-0000000000002"})
    sim.control("POST", "/transfers/payout-0000000000002/complete", json={"outcome": "failed"})

    events = sim.receiver.events()
    assert [(e["event"], e["data"]["reference"]) for e in events] == [
        ("transfer.success", "payout-0000000000001"),
        ("transfer.reversed", "payout-0000000000001"),
        ("transfer.failed", "payout-0000000000002"),
    ]
    assert events[0]["data"]["recipient"]["recipient_code"] == recipient
    for headers, raw in sim.receiver.received:
        assert headers["x-paystack-signature"] == signature_of(raw)
    verified = sim.api("GET", "/transfer/verify/payout-0000000000002").json()["data"]
    assert verified["status"] == "failed"


def test_transfer_to_an_unknown_recipient_or_with_a_bad_reference_is_refused(sim: Sim) -> None:
    recipient = _recipient(sim)
    unknown = sim.api("POST", "/transfer", json={"source": "balance", "amount": 100, "recipient": "RCP_nope"})
    assert unknown.status_code == 400
    short = sim.api("POST", "/transfer", json={"source": "balance", "amount": 100, "recipient": recipient, "reference": "Short"})
    assert short.status_code == 400
    assert sim.control("GET", "/transactions").json()["transfers"] == []


def test_reset_clears_everything(sim: Sim) -> None:
    sim.initialize(reference="order-reset")
    assert sim.control("POST", "/reset").status_code == 200
    assert sim.api("GET", "/transaction/verify/order-reset").status_code == 404
    sim.initialize(reference="order-reset")  # the reference is free again
