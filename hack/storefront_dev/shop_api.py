"""A thin client for the public API as a shop's users see it: through the local gateway (`make up`, the
end-to-end tests, the benchmark) or a cluster's Ingress (the cluster tests)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests

TIMEOUT = 60


@dataclass
class Account:
    id: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, account: Account | None = None, *, json: Any = None,
             key: str | None = None, params: dict[str, Any] | None = None) -> requests.Response:
        headers = dict(account.headers) if account else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.request(method, self.base_url + path, json=json, params=params, headers=headers,
                                 timeout=TIMEOUT)

    def expect(self, status: int, method: str, path: str, account: Account | None = None, **kwargs: Any) -> Any:
        response = self.call(method, path, account, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    def login(self, email: str, password: str) -> Account:
        tokens = self.expect(200, "POST", "/api/v1/auth/login", json={"email": email, "password": password})
        me = self.expect(200, "GET", "/api/v1/users/me", Account("", email, password, tokens["access_token"]))
        return Account(me["id"], email, password, tokens["access_token"])

    def sign_up(self, role: str = "customer") -> Account:
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": "correct horse battery", "first_name": "Ada", "last_name": "Obi",
                "role": role}
        if role == "vendor":
            body["business_name"] = "Obi Wares"
        self.expect(201, "POST", "/api/v1/auth/register", json=body)
        return self.login(email, "correct horse battery")

    def wallet(self, account: Account) -> dict[str, Any]:
        return self.expect(200, "GET", "/api/v1/wallet", account)

    def complete_paystack(self, reference: str, outcome: str = "success") -> dict[str, Any]:
        return self.expect(200, "POST", f"/_paystack/_simulator/transactions/{reference}/complete",
                           json={"outcome": outcome})

    def top_up(self, account: Account, amount: int) -> None:
        topup = self.expect(201, "POST", "/api/v1/wallet/topups", account, json={"amount": amount},
                            key=uuid.uuid4().hex)
        assert self.complete_paystack(topup["reference"])["webhook_status"] == 200

    def checkout(self, account: Account, method: str, key: str | None = None) -> requests.Response:
        body = {"shipping_address": {"line1": "1 Marina", "city": "Lagos", "country": "NG"},
                "payment_method": method}
        return self.call("POST", "/api/v1/orders", account, json=body, key=key or uuid.uuid4().hex)
