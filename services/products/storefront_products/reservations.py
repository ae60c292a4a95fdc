"""Stock reservations for checkout: all-or-nothing, idempotent per order, safe under any concurrency.

Reserved units leave `products.stock` at once, with a conditional UPDATE that can never take it below
zero, so `stock` is always what can still be bought. Committing keeps them gone; releasing or expiring
gives them back. Products are always updated in product-id order so two reservations never deadlock.
Status changes are conditional UPDATEs (`... WHERE status = 'active'`): only the call that moves a
reservation out of `active` returns its units, on PostgreSQL and SQLite alike, without row locks.
"""
from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storefront_common.errors import ProblemError, conflict, not_found
from storefront_common.timeutil import utcnow

from .models import MAX_STOCK, Product, Reservation, ReservationItem, ReservationStatus

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


def reserve(session: Session, order_id: uuid.UUID, quantities: dict[uuid.UUID, int],
            ttl_seconds: int) -> tuple[Reservation, bool]:
    """Reserve every line or none. Returns the reservation and whether this call created it."""
    existing = _reservation_for_order(session, order_id)
    if existing is not None:
        return _replay(session, existing, quantities), False
    reservation = Reservation(order_id=order_id, status=ReservationStatus.ACTIVE, items=[],
                              expires_at=utcnow() + timedelta(seconds=ttl_seconds))
    session.add(reservation)
    try:
        # The unique order_id makes a concurrent twin wait here, then fail, before it touches any stock.
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = _reservation_for_order(session, order_id)
        if existing is None:
            raise
        return _replay(session, existing, quantities), False
    _take_units(session, reservation, quantities)
    session.commit()
    return reservation, True


def _take_units(session: Session, reservation: Reservation, quantities: dict[uuid.UUID, int]) -> None:
    short: list[uuid.UUID] = []
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        taken = session.execute(
            update(Product)
            .where(Product.id == product_id, Product.is_active, Product.stock >= quantity)
            .values(stock=Product.stock - quantity)
            .returning(Product.name, Product.price, Product.currency, Product.vendor_id)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if taken is None:
            short.append(product_id)
            continue
        reservation.items.append(ReservationItem(product_id=product_id, quantity=quantity, name=taken.name,
                                                 unit_price=taken.price, currency=taken.currency,
                                                 vendor_id=taken.vendor_id))
    if short:
        session.rollback()
        raise InsufficientStock(_shortfalls(session, {pid: quantities[pid] for pid in short}))


def _shortfalls(session: Session, requested: dict[uuid.UUID, int]) -> list[Shortfall]:
    # Unknown and inactive products can never be bought: they report 0 available.
    available = dict(session.execute(
        select(Product.id, Product.stock).where(Product.id.in_(requested), Product.is_active)
    ).tuples().all())
    session.rollback()
    return [Shortfall(pid, quantity, available.get(pid, 0)) for pid, quantity in requested.items()]


def _reservation_for_order(session: Session, order_id: uuid.UUID) -> Reservation | None:
    return session.scalar(select(Reservation).where(Reservation.order_id == order_id))


def _replay(session: Session, existing: Reservation, quantities: dict[uuid.UUID, int]) -> Reservation:
    reserved = {item.product_id: item.quantity for item in existing.items}
    if reserved != quantities:
        raise conflict("This order already has a reservation with different items.",
                       reservation_id=str(existing.id))
    _expire_if_due(session, existing.id)
    current = _load(session, existing.id)
    if current.status in FINISHED_WITHOUT_SALE:
        raise conflict(f"This order's reservation was {current.status}; its units are back in stock.",
                       reservation_id=str(current.id), reservation_status=current.status)
    return current


def _load(session: Session, reservation_id: uuid.UUID) -> Reservation:
    reservation = session.scalar(select(Reservation).where(Reservation.id == reservation_id)
                                 .execution_options(populate_existing=True))
    if reservation is None:
        raise not_found("reservation")
    return reservation


def _move(session: Session, reservation_id: uuid.UUID, status: str, *, only_if_due: bool = False,
          only_if_not_due: bool = False, from_status: str = ReservationStatus.ACTIVE) -> bool:
    """Move a reservation from `from_status` to `status` in one conditional UPDATE. True only for the one
    call that moved it, so concurrent commits, releases and expiries can never both act on it."""
    conditions = [Reservation.id == reservation_id, Reservation.status == from_status]
    if only_if_due:
        conditions.append(Reservation.expires_at <= utcnow())
    if only_if_not_due:
        conditions.append(Reservation.expires_at > utcnow())
    moved = session.execute(update(Reservation).where(*conditions).values(status=status)
                            .execution_options(synchronize_session=False))
    return moved.rowcount == 1  # type: ignore[attr-defined]


def _units_of(session: Session, reservation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(ReservationItem.product_id, func.sum(ReservationItem.quantity))
        .where(ReservationItem.reservation_id.in_(reservation_ids)).group_by(ReservationItem.product_id))
    return {product_id: int(quantity) for product_id, quantity in rows.tuples()}


def _return_units(session: Session, quantities: dict[uuid.UUID, int]) -> None:
    for product_id in sorted(quantities):
        restored = Product.stock + quantities[product_id]
        # Capped because the vendor may have raised the stock to the maximum meanwhile.
        session.execute(
            update(Product).where(Product.id == product_id)
            .values(stock=case((restored > MAX_STOCK, MAX_STOCK), else_=restored))
            .execution_options(synchronize_session=False))


def _expire_if_due(session: Session, reservation_id: uuid.UUID) -> None:
    if _move(session, reservation_id, ReservationStatus.EXPIRED, only_if_due=True):
        _return_units(session, _units_of(session, [reservation_id]))
    session.commit()


def read(session: Session, reservation_id: uuid.UUID) -> Reservation:
    _expire_if_due(session, reservation_id)
    return _load(session, reservation_id)


def commit(session: Session, reservation_id: uuid.UUID) -> Reservation:
    # The usual case, an active reservation within its time, is one UPDATE; a due one expires instead.
    if not _move(session, reservation_id, ReservationStatus.COMMITTED, only_if_not_due=True):
        _expire_if_due(session, reservation_id)
    session.commit()
    reservation = _load(session, reservation_id)
    if reservation.status != ReservationStatus.COMMITTED:
        raise conflict(f"The reservation was {reservation.status}; it can no longer be committed.",
                       reservation_status=reservation.status)
    return reservation


def release(session: Session, reservation_id: uuid.UUID) -> Reservation:
    """Give the units back. Releasing an expired reservation is a no-op: its units are already back."""
    if _move(session, reservation_id, ReservationStatus.RELEASED):
        _return_units(session, _units_of(session, [reservation_id]))
    session.commit()
    reservation = _load(session, reservation_id)
    if reservation.status == ReservationStatus.COMMITTED:
        raise conflict("The reservation was committed; its units are sold.", reservation_status="committed")
    return reservation


def return_committed(session: Session, reservation_id: uuid.UUID) -> Reservation:
    """Put a committed reservation's units back on sale (its order was cancelled before shipping)."""
    if _move(session, reservation_id, ReservationStatus.RETURNED, from_status=ReservationStatus.COMMITTED):
        _return_units(session, _units_of(session, [reservation_id]))
    session.commit()
    reservation = _load(session, reservation_id)
    if reservation.status != ReservationStatus.RETURNED:
        raise conflict(f"Only a committed reservation can be returned; this one is {reservation.status}.",
                       reservation_status=reservation.status)
    return reservation


def expire_due(session: Session, batch_size: int, now: datetime | None = None) -> int:
    """Expire every active reservation past its time; safe to run in several processes at once."""
    moment = now or utcnow()
    expired = 0
    while True:
        # SKIP LOCKED: a concurrent run, commit or release holding a row leaves it to them.
        due = (select(Reservation.id)
               .where(Reservation.status == ReservationStatus.ACTIVE, Reservation.expires_at <= moment)
               .order_by(Reservation.expires_at, Reservation.id).limit(batch_size)
               .with_for_update(skip_locked=True))
        moved = session.scalars(
            update(Reservation)
            .where(Reservation.id.in_(due.scalar_subquery()), Reservation.status == ReservationStatus.ACTIVE)
            .values(status=ReservationStatus.EXPIRED).returning(Reservation.id)
            .execution_options(synchronize_session=False)).all()
        if moved:
            _return_units(session, _units_of(session, list(moved)))
        session.commit()
        expired += len(moved)
        if len(moved) < batch_size:
            return expired
