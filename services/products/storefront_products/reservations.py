"""Stock reservations for checkout: all-or-nothing, idempotent per order, safe under any concurrency.

Only products in the shop's currency (STOREFRONT_CURRENCY) are reserved: any other line refuses the whole
reservation with 422, as the order could never be paid.

Reserved units leave `products.stock` at once, with a conditional UPDATE that can never take it below
zero, so `stock` is always what can still be bought. Committing keeps them gone; releasing or expiring
gives them back. Products are always updated in product-id order so two reservations never deadlock.
Status changes are conditional UPDATEs (`... WHERE status = 'active'`): only the call that moves a
reservation out of `active` returns its units, on PostgreSQL and SQLite alike, without row locks.
The statements are store.py's.
"""
from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from storefront_common.currency import currency_refusal
from storefront_common.errors import ProblemError, conflict, not_found
from storefront_common.timeutil import utcnow

from . import store
from .models import ReservationStatus, ReservationView, ReservedLine

FINISHED_WITHOUT_SALE = (ReservationStatus.RELEASED, ReservationStatus.EXPIRED, ReservationStatus.RETURNED)


@dataclass(frozen=True)
class Shortfall:
    product_id: uuid.UUID
    requested: int
    available: int


class InsufficientStock(ProblemError):
    def __init__(self, shortfalls: list[Shortfall]) -> None:
        super().__init__(409, "Not enough stock for some items; nothing was reserved.", extra={
            "insufficient": [{"product_id": str(s.product_id), "requested": s.requested, "available": s.available}
                             for s in shortfalls]})


def merge_lines(lines: list[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, int]:
    """Quantities per product, the same product named twice counting once with the sum."""
    merged: Counter[uuid.UUID] = Counter()
    for product_id, quantity in lines:
        merged[product_id] += quantity
    return dict(sorted(merged.items()))


def reserve(connection: Connection, order_id: uuid.UUID, quantities: dict[uuid.UUID, int],
            ttl_seconds: int) -> tuple[ReservationView, bool]:
    """Reserve every line or none. Returns the reservation and whether this call created it."""
    now = utcnow()
    reservation_id = uuid.uuid4()
    expires_at = now + timedelta(seconds=ttl_seconds)
    # The unique order_id makes a concurrent twin wait here until the first one ends, then insert nothing
    # and replay it (or insert after all, if the first one rolled back), before it touches any stock.
    if not store.insert_reservation(connection, reservation_id, order_id, expires_at, now):
        return _replay(connection, order_id, quantities, now), False
    lines = _take_units(connection, reservation_id, quantities)
    connection.commit()
    return ReservationView(reservation_id, order_id, ReservationStatus.ACTIVE, expires_at, lines), True


def _take_units(connection: Connection, reservation_id: uuid.UUID,
                quantities: dict[uuid.UUID, int]) -> list[ReservedLine]:
    """Take each product's units and record the lines; all or none (a shortfall rolls everything back)."""
    lines: list[ReservedLine] = []
    short: list[uuid.UUID] = []
    for product_id in sorted(quantities):
        line = store.take_units(connection, reservation_id, product_id, quantities[product_id])
        if line is None:
            short.append(product_id)
        else:
            lines.append(line)
    _refuse_other_currencies(connection, lines)
    if short:
        connection.rollback()
        raise InsufficientStock(_shortfalls(connection, {pid: quantities[pid] for pid in short}))
    store.record_lines(connection, reservation_id, lines)
    return lines


def _refuse_other_currencies(connection: Connection, lines: list[ReservedLine]) -> None:
    """A product priced in another currency than the shop's cannot be paid for: 422, nothing reserved."""
    refusal = currency_refusal(((f"{line.name} ({line.product_id})", line.currency) for line in lines), "items")
    if refusal is not None:
        connection.rollback()
        raise refusal


def _shortfalls(connection: Connection, requested: dict[uuid.UUID, int]) -> list[Shortfall]:
    available = store.available_units(connection, list(requested))
    connection.rollback()
    return [Shortfall(pid, quantity, available.get(pid, 0)) for pid, quantity in requested.items()]


def _replay(connection: Connection, order_id: uuid.UUID, quantities: dict[uuid.UUID, int],
            now: datetime) -> ReservationView:
    existing = _found(store.reservation_of_order(connection, order_id))
    if {item.product_id: item.quantity for item in existing.items} != quantities:
        raise conflict("This order already has a reservation with different items.",
                       reservation_id=str(existing.id))
    expired = store.move(connection, existing.id, ReservationStatus.EXPIRED, now, due=True)
    current = _settle(connection, existing.id, give_back=expired)
    if current.status in FINISHED_WITHOUT_SALE:
        raise conflict(f"This order's reservation was {current.status}; its units are back in stock.",
                       reservation_id=str(current.id), reservation_status=current.status)
    return current


def _found(reservation: ReservationView | None) -> ReservationView:
    if reservation is None:
        raise not_found("reservation")
    return reservation


def _settle(connection: Connection, reservation_id: uuid.UUID, give_back: bool) -> ReservationView:
    """The reservation as it now stands; its units go back to stock when this call took it out of active or
    committed (`give_back`). Commits the transaction."""
    reservation = _found(store.reservation(connection, reservation_id))
    if give_back:
        store.return_units(connection, {item.product_id: item.quantity for item in reservation.items})
    connection.commit()
    return reservation


def read(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    expired = store.move(connection, reservation_id, ReservationStatus.EXPIRED, utcnow(), due=True)
    return _settle(connection, reservation_id, give_back=expired)


def commit(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    # The usual case, an active reservation within its time, is one statement; a due one expires instead.
    now = utcnow()
    committed_at_once = store.commit_in_one_statement(connection, reservation_id, now)
    if committed_at_once is not None:
        return committed_at_once
    committed = store.move(connection, reservation_id, ReservationStatus.COMMITTED, now, due=False)
    expired = not committed and store.move(connection, reservation_id, ReservationStatus.EXPIRED, now, due=True)
    reservation = _settle(connection, reservation_id, give_back=expired)
    if reservation.status != ReservationStatus.COMMITTED:
        raise conflict(f"The reservation was {reservation.status}; it can no longer be committed.",
                       reservation_status=reservation.status)
    return reservation


def release(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    """Give the units back. Releasing an expired reservation is a no-op: its units are already back."""
    released = store.move(connection, reservation_id, ReservationStatus.RELEASED, utcnow())
    reservation = _settle(connection, reservation_id, give_back=released)
    if reservation.status == ReservationStatus.COMMITTED:
        raise conflict("The reservation was committed; its units are sold.", reservation_status="committed")
    return reservation


def return_committed(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    """Put a committed reservation's units back on sale (its order was cancelled before shipping)."""
    returned = store.move(connection, reservation_id, ReservationStatus.RETURNED, utcnow(),
                          from_status=ReservationStatus.COMMITTED)
    reservation = _settle(connection, reservation_id, give_back=returned)
    if reservation.status != ReservationStatus.RETURNED:
        raise conflict(f"Only a committed reservation can be returned; this one is {reservation.status}.",
                       reservation_status=reservation.status)
    return reservation


def expire_due(connection: Connection, batch_size: int, now: datetime | None = None) -> int:
    """Expire every active reservation past its time; safe to run in several processes at once."""
    moment = now or utcnow()
    expired = 0
    while True:
        moved = store.expire_due_batch(connection, moment, batch_size)
        if moved:
            store.return_units(connection, store.units_of(connection, moved))
        connection.commit()
        expired += len(moved)
        if len(moved) < batch_size:
            return expired
