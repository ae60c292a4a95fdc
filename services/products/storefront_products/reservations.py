"""Stock reservations for checkout: all-or-nothing, idempotent per order, safe under any concurrency.

Only products in the shop's currency (STOREFRONT_CURRENCY) are reserved: any other line refuses the whole
reservation with 422, as the order could never be paid.

Reserved units leave `products.stock` at once, with a conditional UPDATE that can never take it below
zero, so `stock` is always what can still be bought. Committing keeps them gone; releasing or expiring
gives them back. Products are always updated in product-id order so two reservations never deadlock.
Status changes are conditional UPDATEs (`... WHERE status = 'active'`): only the call that moves a
reservation out of `active` returns its units, on PostgreSQL and SQLite alike, without row locks.

Every request runs Core statements built once at import on a plain connection: they build no ORM objects,
and the ORM's unit of work and reloads cost more CPU than the statements themselves.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (ColumnElement, Connection, Insert, Integer, Row, Select, Table, Update, Uuid, bindparam, case,
                        func, insert, select, update)

from storefront_common.currency import currency_refusal
from storefront_common.db import autocommit, insert_on_conflict
from storefront_common.errors import ProblemError, conflict, not_found
from storefront_common.timeutil import utcnow

from .models import MAX_STOCK, Product, Reservation, ReservationItem, ReservationStatus

FINISHED_WITHOUT_SALE = (ReservationStatus.RELEASED, ReservationStatus.EXPIRED, ReservationStatus.RETURNED)
RESERVATIONS: Table = Reservation.__table__
ITEMS: Table = ReservationItem.__table__
PRODUCTS: Table = Product.__table__


class ReservedLine(NamedTuple):
    """One reserved line, with the product's name and price as they were when the units were reserved."""

    product_id: uuid.UUID
    quantity: int
    name: str
    unit_price: int
    currency: str
    vendor_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReservationView:
    """What the service answers about a reservation (representations.reservation_json)."""

    id: uuid.UUID
    order_id: uuid.UUID
    status: str
    expires_at: datetime
    items: list[ReservedLine]  # in product-id order


# The reservation's own columns, named and ordered as ReservationView's fields before `items`.
HEAD = tuple(field.name for field in fields(ReservationView) if field.name != "items")


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


def _load_by(key: str) -> Select[Any]:
    """The reservation whose `key` is :key, one row per line: its own columns, then the line's."""
    # An inner join: a reservation is written with its lines (at least one) in a single transaction.
    return (select(*(RESERVATIONS.c[name] for name in HEAD), *(ITEMS.c[name] for name in ReservedLine._fields))
            .join_from(RESERVATIONS, ITEMS).where(RESERVATIONS.c[key] == bindparam("key"))
            .order_by(ITEMS.c.product_id))


def _move_statement(*conditions: ColumnElement[bool]) -> Update:
    return (update(RESERVATIONS)
            .where(RESERVATIONS.c.id == bindparam("reservation_id"),
                   RESERVATIONS.c.status == bindparam("from_status"), *conditions)
            .values(status=bindparam("to_status")))


INSERT_RESERVATION = insert_on_conflict(RESERVATIONS, conflict=("order_id",))  # a repeat inserts nothing
INSERT_ITEMS = insert(ITEMS)
LOAD_BY_ID = _load_by("id")
LOAD_BY_ORDER = _load_by("order_id")
# Keyed by `due`: None moves regardless of the time, True only past expires_at, False only before it.
MOVES = {None: _move_statement(),
         True: _move_statement(RESERVATIONS.c.expires_at <= bindparam("now")),
         False: _move_statement(RESERVATIONS.c.expires_at > bindparam("now"))}


def _commit_and_load() -> Select[Any]:
    """The usual commit as one statement: move an active reservation within its time to committed, and read
    it with its lines. The read sees the rows as the statement found them (one snapshot for the whole
    statement), so the status is the move's when it moved; the last column says whether it did."""
    moved = MOVES[False].returning(RESERVATIONS.c.id, RESERVATIONS.c.status).cte("moved")
    head = [func.coalesce(moved.c.status, RESERVATIONS.c.status) if name == "status" else RESERVATIONS.c[name]
            for name in HEAD]
    return (select(*head, *(ITEMS.c[name] for name in ReservedLine._fields), moved.c.id.is_not(None))
            .join_from(RESERVATIONS, ITEMS).outerjoin(moved, moved.c.id == RESERVATIONS.c.id)
            .where(RESERVATIONS.c.id == bindparam("reservation_id")).order_by(ITEMS.c.product_id))


COMMIT_AND_LOAD = _commit_and_load()
TAKE_UNITS = (update(PRODUCTS)
              .where(PRODUCTS.c.id == bindparam("product_id"), PRODUCTS.c.is_active,
                     PRODUCTS.c.stock >= bindparam("quantity"))
              .values(stock=PRODUCTS.c.stock - bindparam("quantity"))
              .returning(PRODUCTS.c.name, PRODUCTS.c.price, PRODUCTS.c.currency, PRODUCTS.c.vendor_id))


def _take_units_into_items() -> Insert:
    """One statement per line on PostgreSQL: take the units and record the line priced as they were taken.
    The hot product's row stays locked from here to COMMIT only, one round trip, not two."""
    taken = TAKE_UNITS.returning(PRODUCTS.c.id).cte("taken")
    priced = select(bindparam("reservation_id", type_=Uuid), taken.c.id, bindparam("quantity", type_=Integer),
                    taken.c.name, taken.c.price, taken.c.currency, taken.c.vendor_id)
    return (insert(ITEMS).from_select(["reservation_id", *ReservedLine._fields], priced).add_cte(taken)
            .returning(*(ITEMS.c[name] for name in ReservedLine._fields[2:])))


TAKE_UNITS_INTO_ITEMS = _take_units_into_items()
_RESTORED = PRODUCTS.c.stock + bindparam("quantity")
# Capped because the vendor may have raised the stock to the maximum meanwhile.
RETURN_UNITS = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("product_id"))
                .values(stock=case((_RESTORED > MAX_STOCK, MAX_STOCK), else_=_RESTORED)))
# Unknown and inactive products can never be bought: they report 0 available.
AVAILABLE = select(PRODUCTS.c.id, PRODUCTS.c.stock).where(
    PRODUCTS.c.id.in_(bindparam("product_ids", expanding=True)), PRODUCTS.c.is_active)
UNITS_OF = (select(ITEMS.c.product_id, func.sum(ITEMS.c.quantity))
            .where(ITEMS.c.reservation_id.in_(bindparam("reservation_ids", expanding=True)))
            .group_by(ITEMS.c.product_id))


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
    inserted = connection.execute(INSERT_RESERVATION, {
        "id": reservation_id, "order_id": order_id, "status": ReservationStatus.ACTIVE,
        "expires_at": expires_at, "created_at": now, "updated_at": now}).rowcount
    if not inserted:
        return _replay(connection, order_id, quantities, now), False
    lines = _take_units(connection, reservation_id, quantities)
    connection.commit()
    return ReservationView(reservation_id, order_id, ReservationStatus.ACTIVE, expires_at, lines), True


def _take_units(connection: Connection, reservation_id: uuid.UUID,
                quantities: dict[uuid.UUID, int]) -> list[ReservedLine]:
    """Take each product's units and record the lines; all or none (a shortfall rolls everything back)."""
    on_postgresql = connection.dialect.name == "postgresql"
    lines: list[ReservedLine] = []
    short: list[uuid.UUID] = []
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        if on_postgresql:
            taken = connection.execute(TAKE_UNITS_INTO_ITEMS, {"reservation_id": reservation_id,
                                                               "product_id": product_id, "quantity": quantity}).first()
        else:
            taken = connection.execute(TAKE_UNITS, {"product_id": product_id, "quantity": quantity}).first()
        if taken is None:
            short.append(product_id)
        else:
            lines.append(ReservedLine(product_id, quantity, *taken))
    _refuse_other_currencies(connection, lines)
    if short:
        connection.rollback()
        raise InsufficientStock(_shortfalls(connection, {pid: quantities[pid] for pid in short}))
    if not on_postgresql:  # SQLite has no UPDATE inside WITH: the lines are inserted apart
        connection.execute(INSERT_ITEMS, [{"reservation_id": reservation_id, **line._asdict()} for line in lines])
    return lines


def _refuse_other_currencies(connection: Connection, lines: list[ReservedLine]) -> None:
    """A product priced in another currency than the shop's cannot be paid for: 422, nothing reserved."""
    refusal = currency_refusal(((f"{line.name} ({line.product_id})", line.currency) for line in lines), "items")
    if refusal is not None:
        connection.rollback()
        raise refusal


def _shortfalls(connection: Connection, requested: dict[uuid.UUID, int]) -> list[Shortfall]:
    available = dict(connection.execute(AVAILABLE, {"product_ids": list(requested)}).tuples().all())
    connection.rollback()
    return [Shortfall(pid, quantity, available.get(pid, 0)) for pid, quantity in requested.items()]


def _replay(connection: Connection, order_id: uuid.UUID, quantities: dict[uuid.UUID, int],
            now: datetime) -> ReservationView:
    existing = _load(connection, LOAD_BY_ORDER, order_id)
    if {item.product_id: item.quantity for item in existing.items} != quantities:
        raise conflict("This order already has a reservation with different items.",
                       reservation_id=str(existing.id))
    expired = _move(connection, existing.id, ReservationStatus.EXPIRED, now, due=True)
    current = _settle(connection, existing.id, give_back=expired)
    if current.status in FINISHED_WITHOUT_SALE:
        raise conflict(f"This order's reservation was {current.status}; its units are back in stock.",
                       reservation_id=str(current.id), reservation_status=current.status)
    return current


def _load(connection: Connection, statement: Select[Any], key: uuid.UUID) -> ReservationView:
    rows = connection.execute(statement, {"key": key}).all()
    if not rows:
        raise not_found("reservation")
    return _view(rows)


def _view(rows: Sequence[Row[Any]]) -> ReservationView:
    """A reservation from its rows, one per line: its own columns, then the line's (then anything else)."""
    line_end = len(HEAD) + len(ReservedLine._fields)
    return ReservationView(*rows[0][:len(HEAD)], items=[ReservedLine(*row[len(HEAD):line_end]) for row in rows])


def _move(connection: Connection, reservation_id: uuid.UUID, status: str, now: datetime, *,
          due: bool | None = None, from_status: str = ReservationStatus.ACTIVE) -> bool:
    """Move a reservation from `from_status` to `status` in one conditional UPDATE. True only for the one
    call that moved it, so concurrent commits, releases and expiries can never both act on it."""
    moved = connection.execute(MOVES[due], {"reservation_id": reservation_id, "from_status": from_status,
                                            "to_status": status, "now": now})
    return moved.rowcount == 1


def _settle(connection: Connection, reservation_id: uuid.UUID, give_back: bool) -> ReservationView:
    """The reservation as it now stands; its units go back to stock when this call took it out of active or
    committed (`give_back`). Commits the transaction."""
    reservation = _load(connection, LOAD_BY_ID, reservation_id)
    if give_back:
        _return_units(connection, {item.product_id: item.quantity for item in reservation.items})
    connection.commit()
    return reservation


def _return_units(connection: Connection, quantities: dict[uuid.UUID, int]) -> None:
    connection.execute(RETURN_UNITS, [{"product_id": product_id, "quantity": quantities[product_id]}
                                      for product_id in sorted(quantities)])


def _units_of(connection: Connection, reservation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = connection.execute(UNITS_OF, {"reservation_ids": reservation_ids})
    return {product_id: int(quantity) for product_id, quantity in rows.tuples()}


def read(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    expired = _move(connection, reservation_id, ReservationStatus.EXPIRED, utcnow(), due=True)
    return _settle(connection, reservation_id, give_back=expired)


def commit(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    # The usual case, an active reservation within its time, is one statement; a due one expires instead.
    now = utcnow()
    if connection.dialect.name == "postgresql":
        with autocommit(connection):
            rows = connection.execute(COMMIT_AND_LOAD, {"reservation_id": reservation_id, "now": now,
                                                        "from_status": ReservationStatus.ACTIVE,
                                                        "to_status": ReservationStatus.COMMITTED}).all()
        if rows and rows[0][-1]:
            return _view(rows)
    committed = _move(connection, reservation_id, ReservationStatus.COMMITTED, now, due=False)
    expired = not committed and _move(connection, reservation_id, ReservationStatus.EXPIRED, now, due=True)
    reservation = _settle(connection, reservation_id, give_back=expired)
    if reservation.status != ReservationStatus.COMMITTED:
        raise conflict(f"The reservation was {reservation.status}; it can no longer be committed.",
                       reservation_status=reservation.status)
    return reservation


def release(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    """Give the units back. Releasing an expired reservation is a no-op: its units are already back."""
    released = _move(connection, reservation_id, ReservationStatus.RELEASED, utcnow())
    reservation = _settle(connection, reservation_id, give_back=released)
    if reservation.status == ReservationStatus.COMMITTED:
        raise conflict("The reservation was committed; its units are sold.", reservation_status="committed")
    return reservation


def return_committed(connection: Connection, reservation_id: uuid.UUID) -> ReservationView:
    """Put a committed reservation's units back on sale (its order was cancelled before shipping)."""
    returned = _move(connection, reservation_id, ReservationStatus.RETURNED, utcnow(),
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
        # SKIP LOCKED: a concurrent run, commit or release holding a row leaves it to them.
        due = (select(RESERVATIONS.c.id)
               .where(RESERVATIONS.c.status == ReservationStatus.ACTIVE, RESERVATIONS.c.expires_at <= moment)
               .order_by(RESERVATIONS.c.expires_at, RESERVATIONS.c.id).limit(batch_size)
               .with_for_update(skip_locked=True))
        moved = connection.scalars(
            update(RESERVATIONS)
            .where(RESERVATIONS.c.id.in_(due.scalar_subquery()), RESERVATIONS.c.status == ReservationStatus.ACTIVE)
            .values(status=ReservationStatus.EXPIRED).returning(RESERVATIONS.c.id)).all()
        if moved:
            _return_units(connection, _units_of(connection, list(moved)))
        connection.commit()
        expired += len(moved)
        if len(moved) < batch_size:
            return expired
