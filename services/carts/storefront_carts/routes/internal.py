"""Service-to-service routes: checkout (orders) reads a buyer's cart lines and takes a paid order out of the cart."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import service_required
from storefront_common.openapi import operation

from .. import carts
from ..pricing import Line
from ..schemas import CartOut, CheckoutIn, StoredLineOut, StoredLinesOut

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


@blueprint.post("/<uuid:user_id>/checkouts")
@service_required
@operation("A paid order takes its units out of the buyer's cart: each line loses the quantity the order bought "
           "(removed at 0), lines added since stay. Once per order_id: a repeat changes nothing and is 204 too. "
           "No cart, or an expired one: 204, nothing to take out",
           body=CheckoutIn, status=204)
def take_out_order(user_id: uuid.UUID, body: CheckoutIn) -> tuple[str, int]:
    carts.take_out_order(user_id, body.order_id, [Line(item.product_id, item.quantity) for item in body.items])
    return "", 204
