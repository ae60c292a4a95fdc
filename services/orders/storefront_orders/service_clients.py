"""Typed calls to carts, products, users and payments, exactly as services/INTERNAL-API.md writes them."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from storefront_common.client import ServiceClient, ServiceResponse, answer_failure
from storefront_common.errors import ProblemError

logger = logging.getLogger("storefront.orders.service_clients")



@dataclass(frozen=True)
class ReservedLine:
    product_id: uuid.UUID
    quantity: int
    name: str
    unit_price: int
    currency: str
    vendor_id: uuid.UUID


@dataclass(frozen=True)
class Reservation:
    id: uuid.UUID
    items: list[ReservedLine]


@dataclass(frozen=True)
class Payment:
    reference: str
    status: str
    authorization_url: str | None


class InsufficientStock(Exception):
    def __init__(self, insufficient: list[dict[str, Any]]) -> None:
        super().__init__("insufficient stock")
        self.insufficient = insufficient


class InsufficientFunds(Exception):
    pass


class ReservationGone(Exception):
    """The key's reservation cannot be used: released or expired, or (`stale_id`) held for other lines."""

    def __init__(self, stale_id: uuid.UUID | None = None) -> None:
        super().__init__("reservation unusable")
        self.stale_id = stale_id


def _json(dependency: str, response: ServiceResponse) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise answer_failure(dependency, response) from None
    if not isinstance(body, dict):
        raise answer_failure(dependency, response)
    return body


class CartsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def lines(self, user_id: uuid.UUID) -> list[tuple[uuid.UUID, int]]:
        """(product_id, quantity) per line as stored; the reservation prices them."""
        response = self.client.get(f"/internal/carts/{user_id}/lines")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise answer_failure("carts", response)
        try:
            return [(uuid.UUID(str(item["product_id"])), int(item["quantity"]))
                    for item in _json("carts", response).get("items") or []]
        except (KeyError, TypeError, ValueError):
            raise answer_failure("carts", response) from None

    def take_out(self, user_id: uuid.UUID, order_id: uuid.UUID, lines: list[tuple[uuid.UUID, int]]) -> None:
        """Take a paid order's units out of the buyer's cart; carts does it once per order, so a retry is safe."""
        body = {"order_id": str(order_id),
                "items": [{"product_id": str(product_id), "quantity": quantity} for product_id, quantity in lines]}
        response = self.client.post(f"/internal/carts/{user_id}/checkouts", json=body, idempotent=True)
        if response.status_code not in (200, 204):
            raise answer_failure("carts", response)


class ProductsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def reserve(self, key: uuid.UUID, lines: list[tuple[uuid.UUID, int]], ttl_seconds: int) -> Reservation:
        body = {"order_id": str(key), "ttl_seconds": ttl_seconds,
                "items": [{"product_id": str(product_id), "quantity": quantity} for product_id, quantity in lines]}
        response = self.client.post("/internal/reservations", json=body, idempotent=True)
        if response.status_code == 409:
            problem = _json("products", response)
            if "insufficient" in problem:
                raise InsufficientStock(list(problem["insufficient"] or []))
            if "reservation_status" in problem:
                raise ReservationGone()
            if "reservation_id" in problem:
                raise ReservationGone(_uuid_or_none(problem["reservation_id"]))
            raise answer_failure("products", response)
        if response.status_code == 404:
            # A product left the catalog since it went into the cart: nothing of it can be bought.
            raise InsufficientStock([{"product_id": str(product_id), "requested": quantity, "available": 0}
                                     for product_id, quantity in lines])
        if response.status_code not in (200, 201):
            raise answer_failure("products", response)
        return _reservation(_json("products", response), response)

    def commit(self, reservation_id: uuid.UUID) -> bool:
        return self._settle(reservation_id, "commit")

    def release(self, reservation_id: uuid.UUID) -> bool:
        return self._settle(reservation_id, "release")

    def take_back(self, reservation_id: uuid.UUID) -> bool:
        """Ask for the units of a committed reservation back (a paid order cancelled before shipping).

        Products may refuse (409: the reservation was never committed); that is an answer, not an error.
        """
        response = self.client.post(f"/internal/reservations/{reservation_id}/return", idempotent=True)
        if response.status_code in (200, 204):
            return True
        if response.status_code in (404, 409):
            return False
        raise answer_failure("products", response)

    def _settle(self, reservation_id: uuid.UUID, action: str) -> bool:
        """True when products did it (or had done it); False when it refuses (unknown or expired)."""
        response = self.client.post(f"/internal/reservations/{reservation_id}/{action}", idempotent=True)
        if response.status_code in (200, 204):
            return True
        if response.status_code in (404, 409, 410):
            logger.error("dependency products refused to %s reservation %s: HTTP %s", action, reservation_id,
                         response.status_code, extra={"dependency": "products", "action": action,
                                                      "status": response.status_code,
                                                      "reservation_id": str(reservation_id)})
            return False
        raise answer_failure("products", response)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _reservation(body: dict[str, Any], response: ServiceResponse) -> Reservation:
    try:
        return Reservation(
            id=uuid.UUID(str(body["id"])),
            items=[ReservedLine(uuid.UUID(str(item["product_id"])), int(item["quantity"]), str(item["name"]),
                                int(item["unit_price"]), str(item["currency"]), uuid.UUID(str(item["vendor_id"])))
                   for item in body["items"]])
    except (KeyError, TypeError, ValueError):
        raise answer_failure("products", response) from None


class UsersClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def email(self, bearer: str) -> str:
        response = self.client.get("/api/v1/users/me", bearer=bearer)
        if response.status_code in (401, 403, 404):
            raise ProblemError(401, "Your account could not be confirmed.")
        if response.status_code != 200:
            raise answer_failure("users", response)
        email = _json("users", response).get("email")
        if not isinstance(email, str) or not email:
            raise answer_failure("users", response)
        return email


class PaymentsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def pay(self, body: dict[str, Any]) -> Payment:
        response = self.client.post("/internal/payments", json=body, idempotent=True)
        if response.status_code == 402:
            raise InsufficientFunds()
        if response.status_code not in (200, 201):
            raise answer_failure("payments", response)
        payload = _json("payments", response)
        try:
            return Payment(str(payload["reference"]), str(payload["status"]), payload.get("authorization_url"))
        except KeyError:
            raise answer_failure("payments", response) from None

    def refund(self, order_id: uuid.UUID) -> str | None:
        """The refund's status, or None when payments holds no payment to refund for this order."""
        response = self.client.post(f"/internal/payments/{order_id}/refund", idempotent=True)
        if response.status_code in (404, 409):
            return None
        if response.status_code not in (200, 201):
            raise answer_failure("payments", response)
        return str(_json("payments", response).get("status") or "")

    def release_escrow(self, order_id: uuid.UUID, splits: list[dict[str, Any]]) -> None:
        response = self.client.post(f"/internal/escrow/{order_id}/release", json={"splits": splits},
                                    idempotent=True)
        if response.status_code not in (200, 201):
            raise answer_failure("payments", response)

