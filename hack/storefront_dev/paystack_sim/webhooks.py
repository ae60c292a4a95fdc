"""Signing and delivering webhooks the way Paystack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

import requests

from .config import SimulatorConfig
from .state import Delivery, Store, now

SIGNATURE_HEADER = "x-paystack-signature"


def encode_event(event: str, data: dict[str, Any]) -> bytes:
    # Serialised once: the signature covers exactly these bytes, and a replay
    # sends them again unchanged.
    return json.dumps({"event": event, "data": data}, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret_key: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), body, hashlib.sha512).hexdigest()


def post_signed(url: str | None, body: bytes, secret_key: str, timeout: float) -> tuple[int, str | None]:
    """POST the body; (status code, error). Status 0 means it never got an answer."""
    if not url:
        return 0, "no webhook_url configured"
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret_key)}
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return 0, type(exc).__name__
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, error


def deliver(store: Store, config: SimulatorConfig, reference: str, event: str, body: bytes) -> int:
    """Send one webhook and record the attempt; failures are recorded, never raised."""
    status_code, error = post_signed(config.webhook_url, body, config.secret_key, config.webhook_timeout)
    with store.lock:
        store.deliveries.append(Delivery(event, reference, status_code, error, now()))
    return status_code


def send_event(store: Store, config: SimulatorConfig, reference: str, event: str, data: dict[str, Any]) -> int:
    """Remember the event as the last one for `reference`, then deliver it."""
    body = encode_event(event, data)
    with store.lock:
        store.last_webhooks[reference] = (event, body)
    return deliver(store, config, reference, event, body)


def send_event_in_background(
    store: Store, config: SimulatorConfig, reference: str, event: str, data: dict[str, Any]
) -> None:
    # Paystack sends webhooks asynchronously; doing so here also keeps a
    # single-worker caller from waiting on itself.
    body = encode_event(event, data)
    with store.lock:
        store.last_webhooks[reference] = (event, body)
    threading.Thread(target=deliver, args=(store, config, reference, event, body), daemon=True).start()


def replay(store: Store, config: SimulatorConfig, reference: str) -> int | None:
    """Deliver the last webhook for `reference` again, byte for byte; None if there is none."""
    with store.lock:
        last = store.last_webhooks.get(reference)
    if last is None:
        return None
    event, body = last
    return deliver(store, config, reference, event, body)
