"""The caller's own cart: /api/v1/cart."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import auth_required, current_user_id
from storefront_common.openapi import operation

from .. import carts
from ..schemas import AddItemIn, CartOut, SetQuantityIn

blueprint = Blueprint("cart", __name__, url_prefix="/api/v1/cart")


@blueprint.get("")
@auth_required()
@operation("The caller's cart, priced with the products service's current prices and stock. A cart never "
           "touched, cleared or expired (CART_TTL_SECONDS after its last change) is empty with updated_at null. "
           "A line whose product is inactive shows available 0; one whose product no longer exists is left out.",
           response=CartOut, errors=(503,))
def get_cart() -> dict[str, Any]:
    return carts.view_cart(current_user_id()).model_dump(mode="json")


@blueprint.delete("")
@auth_required()
@operation("Empty the caller's cart", status=204)
def clear_cart() -> tuple[str, int]:
    carts.clear_cart(current_user_id())
    return "", 204


@blueprint.post("/items")
@auth_required()
@operation("Add units of a product to the cart (adds to the quantity already there). 404: unknown or inactive "
           "product. 409: the line would exceed the product's stock or 1000 units, or the cart already holds "
           "CART_MAX_LINES products. 422: the product is priced in another currency than the shop's "
           "(STOREFRONT_CURRENCY), so it could never be checked out.",
           body=AddItemIn, response=CartOut, errors=(404, 409, 503))
def add_item(body: AddItemIn) -> dict[str, Any]:
    return carts.add_item(current_user_id(), body.product_id, body.quantity).model_dump(mode="json")


@blueprint.put("/items/<uuid:product_id>")
@auth_required()
@operation("Set a line's quantity: 0 removes the line (200 even if it was absent); a line not yet in the "
           "cart is created, with the same checks as adding (404 unknown or inactive product, 409 stock or "
           "size, 422 a currency other than the shop's).",
           body=SetQuantityIn, response=CartOut, errors=(404, 409, 503))
def set_quantity(product_id: uuid.UUID, body: SetQuantityIn) -> dict[str, Any]:
    return carts.set_quantity(current_user_id(), product_id, body.quantity).model_dump(mode="json")


@blueprint.delete("/items/<uuid:product_id>")
@auth_required()
@operation("Remove a line; 404 when the product is not in the cart", response=CartOut, errors=(404, 503))
def remove_item(product_id: uuid.UUID) -> dict[str, Any]:
    return carts.remove_item(current_user_id(), product_id).model_dump(mode="json")
