"""A small Paystack client on plain `requests`: timeouts, typed errors, Bearer secret key (never logged)."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

logger = logging.getLogger("storefront.payments.paystack")


class PaystackError(Exception):
    """Paystack answered `status: false` (or not JSON). `status` is the HTTP status, `code` Paystack's code."""

    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    @property
    def rejected_our_key(self) -> bool:
        return self.status in (401, 403)


class PaystackUnavailable(PaystackError):
    """Paystack could not be reached, timed out or failed on its side: try again later."""

    def __init__(self, message: str = "Paystack is unreachable", status: int = 503) -> None:
        super().__init__(message, status)


class PaystackClient:
    def __init__(self, base_url: str, secret_key: str, timeout: float = 10.0, connect_timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret_key = secret_key
        self.timeout = (connect_timeout, timeout)
        self.session = requests.Session()

    def __repr__(self) -> str:
        return f"PaystackClient({self.base_url!r})"

    def initialize(self, *, email: str, amount: int, currency: str, reference: str,
                   callback_url: str | None = None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"email": email, "amount": amount, "currency": currency, "reference": reference}
        if callback_url:
            body["callback_url"] = callback_url
        if metadata:
            body["metadata"] = metadata
        return self._call("POST", "/transaction/initialize", json=body)

    def verify(self, reference: str) -> dict[str, Any]:
        return self._call("GET", f"/transaction/verify/{reference}")

    def refund(self, reference: str, amount: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"transaction": reference}
        if amount is not None:
            body["amount"] = amount
        return self._call("POST", "/refund", json=body)

    def fetch_refund(self, refund_id: str) -> dict[str, Any]:
        return self._call("GET", f"/refund/{quote(refund_id, safe='')}")

    def resolve_account(self, account_number: str, bank_code: str) -> dict[str, Any]:
        return self._call("GET", "/bank/resolve", params={"account_number": account_number, "bank_code": bank_code})

    def create_recipient(self, *, name: str, account_number: str, bank_code: str, currency: str) -> dict[str, Any]:
        return self._call("POST", "/transferrecipient", json={
            "type": "nuban", "name": name, "account_number": account_number, "bank_code": bank_code,
            "currency": currency})

    def transfer(self, *, amount: int, recipient: str, reference: str, currency: str, reason: str) -> dict[str, Any]:
        return self._call("POST", "/transfer", json={
            "source": "balance", "amount": amount, "recipient": recipient, "reference": reference,
            "currency": currency, "reason": reason})

    def verify_transfer(self, reference: str) -> dict[str, Any]:
        return self._call("GET", f"/transfer/verify/{reference}")

    def _call(self, method: str, path: str, *, json: Any = None,
              params: dict[str, str] | None = None) -> dict[str, Any]:
        """The `data` of Paystack's envelope; raises PaystackError or PaystackUnavailable."""
        headers = {"Authorization": f"Bearer {self._secret_key}", "Accept": "application/json"}
        try:
            response = self.session.request(method, self.base_url + path, json=json, params=params,
                                            headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            logger.warning("paystack unreachable", extra={"path": path.split("/")[1], "error": type(error).__name__})
            raise PaystackUnavailable() from None
        if response.status_code >= 500:
            logger.warning("paystack server error", extra={"status": response.status_code})
            raise PaystackUnavailable(f"Paystack answered {response.status_code}", response.status_code)
        try:
            payload = response.json()
        except ValueError:
            raise PaystackError("Paystack answered something that is not JSON", response.status_code) from None
        if not isinstance(payload, dict) or payload.get("status") is not True or response.status_code >= 400:
            message = str(payload.get("message") if isinstance(payload, dict) else "") or "Paystack refused"
            code = payload.get("code") if isinstance(payload, dict) else None
            if response.status_code in (401, 403):
                logger.error("paystack refused our secret key", extra={"status": response.status_code})
            raise PaystackError(message, response.status_code, code)
        data = payload.get("data")
        return data if isinstance(data, dict) else {"items": data}
