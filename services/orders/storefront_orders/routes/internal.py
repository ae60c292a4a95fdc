"""/internal/orders: called by the payments service only (service token)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import service_required
from storefront_common.openapi import operation

from .. import status_changes
from ..order_json import order_out
from ..schemas import OrderOut, PaymentEventIn

blueprint = Blueprint("internal_orders", __name__, url_prefix="/internal/orders")


@blueprint.post("/<uuid:order_id>/payment-events")
@service_required
@operation("A payment of this order settled (idempotent). succeeded: pending → paid, stock committed, "
           "the bought units taken out of the cart; on a cancelled order 409 (payments refunds it). "
           "failed: pending → cancelled. "
           "refunded: payment marked refunded. Amount or currency unlike the order's: 409.",
           body=PaymentEventIn, response=OrderOut, errors=(409,))
def payment_event(order_id: uuid.UUID, body: PaymentEventIn) -> dict[str, Any]:
    order = status_changes.payment_event(order_id, body.event, body.reference, body.amount, body.currency)
    return order_out(order)
