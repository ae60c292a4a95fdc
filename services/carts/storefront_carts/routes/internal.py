"""Service-to-service routes: checkout (orders) reads a buyer's cart and empties it once paid."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import service_required
from storefront_common.openapi import operation

from .. import carts
from ..schemas import CartOut

blueprint = Blueprint("internal_carts", __name__, url_prefix="/internal/carts")


@blueprint.get("/<uuid:user_id>")
@service_required
@operation("A user's cart (an empty cart when the user has none)", response=CartOut, errors=(503,))
def get_user_cart(user_id: uuid.UUID) -> dict[str, Any]:
    return carts.view_cart(user_id).model_dump(mode="json")


@blueprint.delete("/<uuid:user_id>")
@service_required
@operation("Empty a user's cart (idempotent)", status=204)
def clear_user_cart(user_id: uuid.UUID) -> tuple[str, int]:
    carts.clear_cart(user_id)
    return "", 204
