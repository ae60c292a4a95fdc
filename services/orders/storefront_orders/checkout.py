"""The checkout saga: read the cart, reserve stock, record the order, pay, then keep the stock.

Every step is keyed by the order id, and the order id is derived from (user, Idempotency-Key), so a
client retrying after a 503 or a crash resumes the same order instead of starting a second one:

- reserve: products returns the same reservation for the same key (201, then 200);
- record: the order row is the order id's; a recorded order keeps its lines and prices;
- pay: payments returns the same payment for the same order id (201, then 200);
- commit / take the bought units out of the cart: idempotent downstream (carts keys it by order id), and
  recorded here once done.

Compensations: a 402 or a failed payment cancels the order and releases the stock; a dependency
that is down (DependencyUnavailable: 503) releases the stock and leaves the order pending, so the retry
can finish it. A released reservation cannot be revived, so the retry reserves again under the next
attempt number. A dependency that refuses (DependencyRefused: its 4xx, told to the client with its reason)
never changes its mind on a retry: before the order is recorded nothing is kept (products reserves nothing
it refuses), after it the order is cancelled and its stock released, so no pending order is left that
could never be paid.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from storefront_common.client import DependencyFailed, DependencyRefused, DependencyUnavailable
from storefront_common.currency import currency_refusal
from storefront_common.errors import ProblemError, conflict, validation_error
from storefront_common.timeutil import utcnow

from . import fulfilment, store, vendor_splits
from .dependencies import deps, end_transaction
from .models import PAID_STATUSES, Order, OrderStatus, PaymentStatus, ReservationState
from .service_clients import InsufficientFunds, InsufficientStock, Payment, Reservation, ReservationGone
from .status_machine import move

logger = logging.getLogger("storefront.orders.checkout")
ORDER_NAMESPACE = uuid.UUID("6f1d3f0e-7b54-5d3c-9a53-2f0c2b7e9a11")
MAX_RESERVATION_ATTEMPTS = 3


@dataclass(frozen=True)
class CheckoutRequest:
    user_id: uuid.UUID
    idempotency_key: str
    bearer: str
    email_claim: str | None
    shipping_address: dict[str, Any]
    payment_method: str

    @property
    def order_id(self) -> uuid.UUID:
        return order_id_for(self.user_id, self.idempotency_key)


def order_id_for(user_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    return uuid.uuid5(ORDER_NAMESPACE, f"{user_id}:{idempotency_key}")


def reservation_key(order_id: uuid.UUID, attempt: int) -> uuid.UUID:
    return order_id if attempt == 0 else uuid.uuid5(order_id, f"attempt-{attempt}")


def run(request: CheckoutRequest) -> Order:
    order = store.recorded_order(request.order_id)
    # A recorded order is what the buyer checked out; a cart edited since does not change it.
    recorded = [(item.product_id, item.quantity) for item in order.items] if order is not None else None
    if order is not None and _already_decided(order):
        return order
    lines = recorded or _cart_lines(request.user_id)
    # Access tokens carry the (unchangeable) email; older tokens without it cost one call to users.
    email = request.email_claim or deps().users.email(request.bearer)
    reservation, attempt = _reserve(request, order, lines)
    order = _record(request, order, reservation, attempt, lines)
    payment = _pay(order, email)
    return _apply_payment(order, payment)


def _already_decided(order: Order) -> bool:
    """An earlier attempt got as far as a payment outcome: answer with the order as it stands."""
    return order.status != OrderStatus.PENDING or order.payment_reference is not None


def _cart_lines(user_id: uuid.UUID) -> list[tuple[uuid.UUID, int]]:
    lines = deps().carts.lines(user_id)
    if not lines:
        raise validation_error([{"field": "cart", "message": "The cart is empty."}], "The cart is empty.")
    return lines


def _reserve(request: CheckoutRequest, order: Order | None,
             lines: list[tuple[uuid.UUID, int]]) -> tuple[Reservation, int]:
    """The reservation and the attempt number it was made under."""
    attempt = order.reservation_attempt if order is not None else 0
    end_transaction()
    for attempt in range(attempt, attempt + MAX_RESERVATION_ATTEMPTS):
        try:
            return deps().products.reserve(reservation_key(request.order_id, attempt), lines,
                                              deps().settings.reservation_ttl_seconds), attempt
        except ReservationGone as gone:
            # Expired or released under this key, or held by a crashed attempt for a cart edited since:
            # the units of the latter go back, and the next attempt number reserves afresh.
            if gone.stale_id is not None:
                _give_back(gone.stale_id)
            continue
        except InsufficientStock as error:
            if order is not None:
                _cancel(order, PaymentStatus(order.payment_status))
            raise conflict("Not enough stock for some items; nothing was reserved.",
                           insufficient=error.insufficient) from None
        except DependencyRefused:
            # e.g. a line in another currency than the shop's: products reserved nothing, and never will.
            if order is not None:
                _cancel(order, PaymentStatus(order.payment_status))
            raise
    raise DependencyUnavailable("products")


def _record(request: CheckoutRequest, order: Order | None, reservation: Reservation, attempt: int,
            lines: list[tuple[uuid.UUID, int]]) -> Order:
    if order is not None:
        store.set_order_fields(order.id, reservation_id=reservation.id, reservation_state=ReservationState.HELD,
                               reservation_attempt=attempt)
        return order
    # Products reserves only the shop's currency; should it be configured otherwise, nothing is recorded.
    refusal = currency_refusal(((line.name, line.currency) for line in reservation.items), "cart")
    if refusal is not None:
        _give_back(reservation.id)
        raise refusal
    return store.place_order(*_rows(request, reservation, attempt, lines))


def _rows(request: CheckoutRequest, reservation: Reservation, attempt: int,
          lines: list[tuple[uuid.UUID, int]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order's row and its lines' rows, priced from the reservation, the lines in the cart's order."""
    now = utcnow()
    position_in_cart = {product_id: index for index, (product_id, _) in enumerate(lines)}
    # products answers in product-id order; the buyer expects the order to read like the cart did.
    priced_lines = sorted(reservation.items, key=lambda line: position_in_cart.get(line.product_id, len(lines)))
    item_rows = [{"order_id": request.order_id, "product_id": line.product_id, "position": position,
                  "name": line.name, "unit_price": line.unit_price, "quantity": line.quantity,
                  "line_total": line.unit_price * line.quantity, "vendor_id": line.vendor_id}
                 for position, line in enumerate(priced_lines)]
    subtotal = sum(row["line_total"] for row in item_rows)
    # No shipping fees or taxes yet: the total is the subtotal (documented in the OpenAPI summaries).
    order_row = {"id": request.order_id, "user_id": request.user_id, "status": OrderStatus.PENDING,
                 "currency": reservation.items[0].currency, "subtotal": subtotal, "total": subtotal,
                 "shipping_address": request.shipping_address, "payment_method": request.payment_method,
                 "payment_status": PaymentStatus.PENDING, "payment_reference": None, "authorization_url": None,
                 "reservation_id": reservation.id, "reservation_state": ReservationState.HELD,
                 "reservation_attempt": attempt, "cart_cleared": False, "refund_requested": False,
                 "escrow_released": False, "created_at": now, "updated_at": now,
                 # Payment is asked for right after this commit. The flag means "payments may have been
                 # asked", so setting it now saves a write and only ever makes a refund check ask payments.
                 "payment_requested": True}
    return order_row, item_rows


def _give_back(reservation_id: uuid.UUID) -> None:
    try:
        deps().products.release(reservation_id)
    except DependencyFailed:
        logger.warning("reservation left to expire", extra={"reservation_id": str(reservation_id)})


def _pay(order: Order, email: str) -> Payment:
    if not order.payment_requested:
        store.set_order_fields(order.id, payment_requested=True)
    body = {"order_id": str(order.id), "user_id": str(order.user_id), "email": email, "amount": order.total,
            "currency": order.currency, "method": order.payment_method, "splits": vendor_splits.splits(order)}
    end_transaction()
    try:
        return deps().payments.pay(body)
    except InsufficientFunds:
        _cancel(order, PaymentStatus.FAILED)
        raise ProblemError(402, "The wallet balance is too low for this order; nothing was charged.",
                           extra={"order_id": str(order.id)}) from None
    except DependencyRefused as refused:
        _cancel(order, _refused_payment_status(refused))
        refused.extra["order_id"] = str(order.id)
        raise
    except DependencyUnavailable:
        _release_for_retry(order)
        raise


def _refused_payment_status(refused: DependencyRefused) -> PaymentStatus:
    """A request payments found invalid (422) moved nothing: failed. After any other refusal the payment stays
    pending, so the cancelled order's settlement asks payments for a refund in case money did move."""
    return PaymentStatus.FAILED if refused.dependency_status == 422 else PaymentStatus.PENDING


def _release_for_retry(order: Order) -> None:
    """Stock goes back while we cannot pay; the order stays pending so the client's retry resumes it."""
    store.reload(order)
    if order.reservation_state == ReservationState.HELD and fulfilment.release_reservation(order):
        store.set_order_fields(order.id, reservation_id=None, reservation_state=ReservationState.NONE,
                               reservation_attempt=order.reservation_attempt + 1)


def _apply_payment(order: Order, payment: Payment) -> Order:
    if payment.status == "success":
        moved = move(order.id, OrderStatus.PAID, only_from={OrderStatus.PENDING},
                     payment_status=PaymentStatus.SUCCESS, payment_reference=payment.reference)
        if moved or order.status in PAID_STATUSES:
            fulfilment.finish_paid(order)
        elif order.status == OrderStatus.CANCELLED:
            # Cancelled (by the buyer or the expiry job) while we were paying: the money goes back.
            # A refund asked for before the payment existed found nothing, so it is asked again.
            store.set_order_fields(order.id, payment_status=PaymentStatus.SUCCESS, payment_reference=payment.reference,
                       refund_requested=False)
            fulfilment.settle_cancelled(order)
    elif payment.status == "pending":
        store.set_order_fields(order.id, payment_reference=payment.reference,
                               authorization_url=payment.authorization_url)
    else:
        _cancel(order, PaymentStatus.FAILED)
        raise ProblemError(402, "The payment was declined; nothing was charged.",
                           extra={"order_id": str(order.id)})
    return order


def _cancel(order: Order, payment_status: PaymentStatus) -> None:
    move(order.id, OrderStatus.CANCELLED, only_from={OrderStatus.PENDING}, payment_status=payment_status)
    fulfilment.settle_cancelled(order)
