"""/api/v1/orders: checkout, reading, cancelling and shipping orders."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request

from storefront_common.auth import auth_required, current_claims, current_user_id, has_role
from storefront_common.errors import ProblemError
from storefront_common.idempotency import HEADER, idempotent
from storefront_common.openapi import operation

from .. import checkout, status_changes, store
from ..dependencies import db
from ..models import IdempotencyRecord, OrderStatus
from ..order_access import require_canceller, require_shipper, visible_order
from ..order_json import order_out
from ..schemas import CheckoutIn, OrderList, OrderOut, OrderQuery, StatusIn

blueprint = Blueprint("orders", __name__, url_prefix="/api/v1/orders")
IDEMPOTENCY_HEADER_DOC = {"Idempotent-Replayed": {"description": "true when this is a stored earlier answer",
                                                  "schema": {"type": "string"}}}


@blueprint.post("")
@auth_required()
@idempotent(db, IdempotencyRecord)
@operation("Check out the caller's cart (Idempotency-Key required). Prices come from the catalog; "
           "total = subtotal (no shipping fees or taxes). wallet: paid at once or 402; paystack: pending "
           "with payment.authorization_url. 422: the cart is empty, or an item is not priced in the shop's "
           "currency (nothing recorded or reserved). A definite refusal by another service answers 402, 409 "
           "or 422 with its reason and `dependency`; an order already recorded is then cancelled with its stock "
           "released (`order_id`). 503 (Retry-After): a service is unavailable; retry with the same key to "
           "resume the same order.", body=CheckoutIn, response=OrderOut, status=201, errors=(402, 403, 409, 503),
           headers=IDEMPOTENCY_HEADER_DOC)
def create_order(body: CheckoutIn) -> tuple[dict[str, Any], int]:
    order = checkout.run(checkout.CheckoutRequest(
        user_id=current_user_id(), idempotency_key=request.headers[HEADER], bearer=_bearer(),
        email_claim=_email_claim(),
        shipping_address=body.shipping_address.model_dump(), payment_method=body.payment_method))
    return order_out(order), 201


def _email_claim() -> str | None:
    email = current_claims().get("email")
    return email if isinstance(email, str) and email else None


def _bearer() -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


@blueprint.get("")
@auth_required()
@operation("List orders: scope=mine (default), vendor (vendor role: orders with the caller's products) "
           "or all (admin); newest first", query=OrderQuery, response=OrderList, errors=(403,))
def list_orders(query: OrderQuery) -> dict[str, Any]:
    return store.orders_page(query, order_out, **_scope(query.scope))


def _scope(scope: str) -> dict[str, uuid.UUID]:
    """Whose orders `scope` lists, as store.orders_page's filter (none: every order)."""
    if scope == "all":
        if not has_role("admin"):
            raise ProblemError(403, "Only an admin can list every order.")
        return {}
    if scope == "vendor":
        if not has_role("vendor"):
            raise ProblemError(403, "Only a vendor can list the orders of its products.")
        return {"vendor_id": current_user_id()}
    return {"buyer_id": current_user_id()}


@blueprint.get("/<uuid:order_id>")
@auth_required()
@operation("Read an order (its buyer, a vendor with items in it, or an admin)", response=OrderOut)
def read_order(order_id: uuid.UUID) -> dict[str, Any]:
    return order_out(visible_order(order_id))


@blueprint.post("/<uuid:order_id>/cancel")
@auth_required()
@operation("Cancel a pending order (its stock is released) or a paid one (refunded in full; the "
           "committed units are offered back to products); any other status is 409",
           response=OrderOut, errors=(403, 409))
def cancel_order(order_id: uuid.UUID) -> dict[str, Any]:
    order = visible_order(order_id)
    require_canceller(order)
    return order_out(status_changes.cancel(order))


@blueprint.patch("/<uuid:order_id>/status")
@auth_required("vendor", "admin")
@operation("Mark an order shipped (from paid) or delivered (from shipped): an admin, or the vendor of "
           "every item (mixed-vendor orders: admin only). Delivered releases the escrow to the vendors.",
           body=StatusIn, response=OrderOut, errors=(409,))
def update_status(order_id: uuid.UUID, body: StatusIn) -> dict[str, Any]:
    order = visible_order(order_id)
    require_shipper(order)
    return order_out(status_changes.advance(order, OrderStatus(body.status)))
