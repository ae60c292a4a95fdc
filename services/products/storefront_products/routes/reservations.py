"""/internal/reservations: stock held for a checkout (service tokens only)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from sqlalchemy import Connection

from storefront_common.auth import service_required
from storefront_common.errors import validation_error
from storefront_common.openapi import operation

from .. import reservations
from ..dependencies import db, deps
from ..json_bodies import reservation_json
from ..models import ReservationView
from ..schemas import ReservationIn, ReservationOut

blueprint = Blueprint("reservations", __name__, url_prefix="/internal/reservations")
Action = Callable[[Connection, uuid.UUID], ReservationView]


@blueprint.post("")
@service_required
@operation(
    "Reserve stock for an order, all lines or none. 201 when created; a repeat for the same order_id with "
    "the same lines answers 200 with the same reservation and reserves nothing more. A product named twice "
    "counts once with the summed quantity. 409 with `insufficient: [{product_id, requested, available}]` "
    "when any line cannot be met (unknown or inactive products report available 0), when the order already "
    "has a reservation with other lines, or when its reservation was released or expired. 422 when a product "
    "is priced in another currency than the shop's (nothing is reserved).",
    body=ReservationIn, response=ReservationOut, status=201, errors=(409,))
def create_reservation(body: ReservationIn) -> tuple[dict[str, Any], int]:
    max_ttl = deps().settings.reservation_max_ttl_seconds
    if body.ttl_seconds > max_ttl:
        raise validation_error([{"field": "ttl_seconds", "message": f"At most {max_ttl} seconds."}])
    quantities = reservations.merge_lines([(line.product_id, line.quantity) for line in body.items])
    with db.engine.connect() as connection:
        reservation, created = reservations.reserve(connection, body.order_id, quantities, body.ttl_seconds)
    return reservation_json(reservation), 201 if created else 200


@blueprint.get("/<uuid:reservation_id>")
@service_required
@operation("Read a reservation (an active one past its expiry is expired on the way)",
           response=ReservationOut, errors=(404,))
def read_reservation(reservation_id: uuid.UUID) -> dict[str, Any]:
    return _answer(reservations.read, reservation_id)


@blueprint.post("/<uuid:reservation_id>/commit")
@service_required
@operation("Commit: the units are sold. Repeating answers 200 with the same body; 409 after a release "
           "or expiry", response=ReservationOut, errors=(404, 409))
def commit_reservation(reservation_id: uuid.UUID) -> dict[str, Any]:
    return _answer(reservations.commit, reservation_id)


@blueprint.post("/<uuid:reservation_id>/release")
@service_required
@operation("Release: the units go back to stock. Repeating answers 200 with the same body, and so does "
           "releasing an expired reservation (its units are already back); 409 after a commit",
           response=ReservationOut, errors=(404, 409))
def release_reservation(reservation_id: uuid.UUID) -> dict[str, Any]:
    return _answer(reservations.release, reservation_id)


@blueprint.post("/<uuid:reservation_id>/return")
@service_required
@operation("Return a committed reservation's units to stock (its order was cancelled before shipping). "
           "Repeating answers 200 with the same body; 409 unless the reservation is committed or returned "
           "(an active one is released instead)", response=ReservationOut, errors=(404, 409))
def return_reservation(reservation_id: uuid.UUID) -> dict[str, Any]:
    return _answer(reservations.return_committed, reservation_id)


def _answer(action: Action, reservation_id: uuid.UUID) -> dict[str, Any]:
    with db.engine.connect() as connection:  # leaving without a commit rolls back
        return reservation_json(action(connection, reservation_id))
