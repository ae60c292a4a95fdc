"""Service-to-service routes: checkout (orders) reads a buyer's cart lines and empties the cart once paid."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import service_required
from storefront_common.openapi import operation

from .. import carts
from ..schemas import CartOut, StoredLineOut, StoredLinesOut

blueprint = Blueprint("internal_carts", __name__, url_prefix="/internal/carts")


@blueprint.get("/<uuid:user_id>")
@service_required
@operation("A user's cart (an empty cart when the user has none)", response=CartOut, errors=(503,))
def get_user_cart(user_id: uuid.UUID) -> dict[str, Any]:
    return carts.view_cart(user_id).model_dump(mode="json")


@blueprint.get("/<uuid:user_id>/lines")
@service_required
@operation("A user's cart lines as stored (product_id, quantity), without catalog details: one read, no "
           "call to products. Checkout reserves these lines, and the reservation prices them",
           response=StoredLinesOut)
def get_user_cart_lines(user_id: uuid.UUID) -> dict[str, Any]:
    lines = [StoredLineOut(product_id=line.product_id, quantity=line.quantity) for line in carts.stored_lines(user_id)]
    return StoredLinesOut(items=lines).model_dump(mode="json")


@blueprint.delete("/<uuid:user_id>")
@service_required
@operation("Empty a user's cart (idempotent)", status=204)
def clear_user_cart(user_id: uuid.UUID) -> tuple[str, int]:
    carts.clear_cart(user_id)
    return "", 204
