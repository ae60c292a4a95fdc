"""Configuration of the Paystack simulator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimulatorConfig:
    """How one simulator instance behaves.

    secret_key:  the only key accepted in `Authorization: Bearer ...`; it also
                 keys the HMAC-SHA512 webhook signature, as on Paystack.
    webhook_url: where events are POSTed; None records deliveries as status 0.
    public_url:  externally visible base URL of the simulator (including any
                 mount prefix, e.g. `http://127.0.0.1:8080/_paystack`) used to
                 build `authorization_url`; None derives it from each request.
    currency:    the one currency this "merchant" accepts (Paystack rejects
                 others with "Currency not supported by merchant").
    webhook_timeout: seconds to wait for the webhook receiver.
    """

    secret_key: str
    webhook_url: str | None = None
    public_url: str | None = None
    currency: str = "NGN"
    webhook_timeout: float = 5.0
