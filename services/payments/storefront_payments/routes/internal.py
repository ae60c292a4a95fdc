"""/internal: what the orders service calls (service token only). Every call is idempotent on the order id."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import service_required
from storefront_common.currency import require_shop_currency
from storefront_common.openapi import operation

from .. import charges, escrow, refunds
from ..models import Payment
from ..schemas import InternalPaymentIn, InternalPaymentOut, RefundOut, ReleaseIn, ReleaseOut

blueprint = Blueprint("internal", __name__, url_prefix="/internal")


@blueprint.post("/payments")
@service_required
@operation("Pay an order: wallet debits into escrow now (402 when short, nothing moved); paystack initializes. "
           "201 when created, 200 with the same payment on a repeat for the order. 422 for a currency other "
           "than the shop's (STOREFRONT_CURRENCY), nothing moved", body=InternalPaymentIn,
           response=InternalPaymentOut, status=201, errors=(402, 409, 503))
def create_payment(body: InternalPaymentIn) -> tuple[dict[str, Any], int]:
    require_shop_currency([("The payment", body.currency)])
    splits = [(split.vendor_id, split.amount) for split in body.splits]
    payment, created = charges.pay_order(body.order_id, body.user_id, body.email, body.amount, body.currency,
                                         body.method, splits)
    return _payment(payment), 201 if created else 200


def _payment(payment: Payment) -> dict[str, Any]:
    view: dict[str, Any] = {"reference": payment.reference, "status": charges.public_status(payment),
                            "method": payment.method, "amount": payment.amount, "currency": payment.currency}
    if payment.authorization_url:
        view["authorization_url"] = payment.authorization_url
    return view


@blueprint.post("/payments/<uuid:order_id>/refund")
@service_required
@operation("Refund an order's payment in full: a wallet payment at once, a Paystack one through Paystack",
           response=RefundOut, errors=(409, 503))
def refund_payment(order_id: uuid.UUID) -> dict[str, Any]:
    payment = refunds.refund_order(order_id)
    return {"reference": payment.reference, "status": refunds.public_refund_status(payment)}


@blueprint.post("/escrow/<uuid:order_id>/release")
@service_required
@operation("Release an order's escrow to its vendors' wallets, less PLATFORM_FEE_BPS; the splits must sum to "
           "the escrowed amount", body=ReleaseIn, response=ReleaseOut, errors=(409,))
def release_escrow(order_id: uuid.UUID, body: ReleaseIn) -> dict[str, Any]:
    return escrow.release(order_id, [(split.vendor_id, split.amount) for split in body.splits])
