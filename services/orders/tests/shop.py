"""A customer's, a vendor's and an admin's view of the test platform, through the public HTTP APIs."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from services.orders.tests.conftest import TIMEOUT, Platform
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.currency import configured_currency
from storefront_common.testing.tokens import Auth

ADDRESS = {"line1": "12 Marina Road", "city": "Lagos", "state": "Lagos", "country": "NG",
           "phone": "+234 801 234 5678"}


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    headers: dict[str, str]


class Shop:
    """Journeys through the platform: orders through `client`, the other services over HTTP, callers from `auth`."""

    def __init__(self, platform: Platform, client: HttpClient, auth: Auth) -> None:
        self.platform = platform
        self.client = client
        self.auth = auth
        self._category_id: str | None = None

    # --- people -----------------------------------------------------------------------------------

    def user(self, *roles: str) -> User:
        user_id = uuid.uuid4()
        return User(user_id, self.auth.user(*(roles or ("customer",)), user_id=user_id))

    def admin(self) -> User:
        return self.user("admin")

    # --- catalog ----------------------------------------------------------------------------------

    def category_id(self) -> str:
        if self._category_id is None:
            response = requests.post(f"{self.platform.products.url}/api/v1/categories",
                                     json={"name": f"Category {uuid.uuid4().hex[:8]}"},
                                     headers=self.admin().headers, timeout=TIMEOUT)
            assert response.status_code == 201, response.text
            self._category_id = response.json()["id"]
        return self._category_id

    def product(self, vendor: User, price: int = 5_000, stock: int = 10) -> str:
        response = requests.post(f"{self.platform.products.url}/api/v1/products",
                                 json={"name": f"Product {uuid.uuid4().hex[:8]}", "price": price, "stock": stock,
                                       "category_id": self.category_id()},
                                 headers=vendor.headers, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    @contextmanager
    def configured_in(self, currency: str, *services: str) -> Iterator[None]:
        """The named services (products, carts, payments) reconfigured to STOREFRONT_CURRENCY=`currency`."""
        with ExitStack() as stack:
            for name in services:
                stack.enter_context(configured_currency(self.platform.apps[name], currency))
            yield

    def stock(self, product_id: str) -> int:
        response = requests.get(f"{self.platform.products.url}/api/v1/products/{product_id}", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return int(response.json()["stock"])

    # --- cart -------------------------------------------------------------------------------------

    def add(self, buyer: User, product_id: str, quantity: int = 1) -> None:
        response = requests.post(f"{self.platform.carts.url}/api/v1/cart/items",
                                 json={"product_id": product_id, "quantity": quantity},
                                 headers=buyer.headers, timeout=TIMEOUT)
        assert response.status_code == 200, response.text

    def cart_items(self, buyer: User) -> list[dict[str, Any]]:
        response = requests.get(f"{self.platform.carts.url}/api/v1/cart", headers=buyer.headers, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    # --- money ------------------------------------------------------------------------------------

    def topup(self, user: User, amount: int) -> None:
        response = requests.post(f"{self.platform.payments.url}/api/v1/wallet/topups", json={"amount": amount},
                                 headers={**user.headers, "Idempotency-Key": uuid.uuid4().hex}, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        self.complete_paystack(response.json()["reference"])
        assert self.balance(user) >= amount

    def complete_paystack(self, reference: str, outcome: str = "success") -> dict[str, Any]:
        response = requests.post(f"{self.platform.paystack.url}/_simulator/transactions/{reference}/complete",
                                 json={"outcome": outcome}, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wallet(self, user: User) -> dict[str, Any]:
        response = requests.get(f"{self.platform.payments.url}/api/v1/wallet", headers=user.headers,
                                timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def balance(self, user: User) -> int:
        return int(self.wallet(user)["balance"])

    # --- orders -----------------------------------------------------------------------------------

    def checkout(self, buyer: User, method: str = "wallet", key: str | None = None,
                 address: dict[str, Any] | None = None, request_id: str | None = None) -> requests.Response:
        headers = {**buyer.headers, "Idempotency-Key": key or uuid.uuid4().hex}
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        body = {"shipping_address": address or ADDRESS, "payment_method": method}
        return self.client.post("/api/v1/orders", json=body, headers=headers, timeout=60)

    def get(self, user: User, path: str = "", **params: Any) -> requests.Response:
        return self.client.get(f"/api/v1/orders{path}", params=params, headers=user.headers)

    def cancel(self, user: User, order_id: str) -> requests.Response:
        return self.client.post(f"/api/v1/orders/{order_id}/cancel", headers=user.headers)

    def set_status(self, user: User, order_id: str, status: str) -> requests.Response:
        return self.client.patch(f"/api/v1/orders/{order_id}/status", json={"status": status}, headers=user.headers)

    def event(self, order_id: str, body: dict[str, Any]) -> requests.Response:
        return self.client.post(f"/internal/orders/{order_id}/payment-events", json=body,
                                headers=self.auth.service("payments"))

    # --- a ready buyer ----------------------------------------------------------------------------

    def buyer_with_cart(self, vendor: User, *, price: int = 5_000, stock: int = 10, quantity: int = 2,
                        funds: int = 0) -> tuple[User, str]:
        buyer = self.user("customer")
        product_id = self.product(vendor, price=price, stock=stock)
        self.add(buyer, product_id, quantity)
        if funds:
            self.topup(buyer, funds)
        return buyer, product_id
