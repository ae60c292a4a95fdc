"""/api/v1/products/{id}/inventory: the vendor's stock adjustments."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import auth_required
from storefront_common.openapi import operation

from .. import store
from ..access import managed_product
from ..dependencies import db
from ..inventory import adjust_stock, set_stock
from ..schemas import InventoryIn, InventoryOut

blueprint = Blueprint("inventory", __name__, url_prefix="/api/v1/products")


@blueprint.post("/<uuid:product_id>/inventory")
@auth_required("vendor", "admin")
@operation("Adjust stock by `delta` or set it to `stock` (exactly one); a result below 0 is 409",
           body=InventoryIn, response=InventoryOut, errors=(404, 409))
def change_inventory(product_id: uuid.UUID, body: InventoryIn) -> dict[str, Any]:
    managed_product(store.get_product(db.session, product_id))
    if body.delta is not None:
        stock = adjust_stock(db.session, product_id, body.delta)
    else:
        stock = set_stock(db.session, product_id, body.stock)  # type: ignore[arg-type]
    return {"product_id": str(product_id), "stock": stock}
