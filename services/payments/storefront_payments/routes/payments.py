"""/api/v1/payments: one payment by reference, and the page the browser lands on after checkout."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template_string, request

from storefront_common.auth import auth_required, current_user_id, has_role
from storefront_common.errors import not_found
from storefront_common.openapi import operation
from storefront_common.timeutil import isoformat

from .. import charges, reverification
from ..dependencies import deps
from ..models import PENDING, Payment
from ..schemas import CallbackQuery, PaymentOut

blueprint = Blueprint("payments", __name__, url_prefix="/api/v1/payments")

OUTCOME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Payment {{ status }}</title></head>
<body><main>
<h1>{{ headline }}</h1>
<p>Reference: <code>{{ reference }}</code></p>
<p>Amount: {{ currency }} {{ major_amount }}</p>
</main></body></html>
"""
HEADLINES = {"success": "Payment received. Thank you!", "pending": "Your payment is being confirmed.",
             "failed": "The payment did not go through.", "abandoned": "The payment was not completed.",
             "refunded": "This payment was refunded."}


def public_view(payment: Payment) -> dict[str, Any]:
    view: dict[str, Any] = {"reference": payment.reference, "status": charges.public_status(payment),
                            "amount": payment.amount, "currency": payment.currency, "purpose": payment.purpose}
    if payment.order_id is not None:
        view["order_id"] = str(payment.order_id)
    if payment.paid_at is not None:
        view["paid_at"] = isoformat(payment.paid_at)
    return view


def _settled(payment: Payment) -> Payment:
    if payment.status == PENDING:
        reverification.reverify_payment(payment)
    elif reverification.refund_overdue(payment, deps().settings.reverify_older_than_seconds):
        reverification.reverify_refund(payment)
    return payment


@blueprint.get("/<reference>")
@auth_required()
@operation("A payment by reference (owner or admin); a pending one is verified with Paystack on the way, "
           "and a refund pending for REVERIFY_OLDER_THAN_SECONDS is fetched from Paystack",
           response=PaymentOut)
def read_payment(reference: str) -> dict[str, Any]:
    payment = charges.find_by_reference(reference)
    if payment is None or not (has_role("admin") or _is_owner(payment)):
        raise not_found("payment")
    return public_view(_settled(payment))


def _is_owner(payment: Payment) -> bool:
    return payment.user_id == current_user_id()


@blueprint.get("/paystack/callback")
@operation("Where the browser lands after Paystack's checkout: verifies the payment and shows the outcome "
           "(HTML, or JSON when Accept asks for it); 404 for a reference payments does not know",
           query=CallbackQuery, response=PaymentOut, errors=(404,), media_types=("application/json", "text/html"))
def paystack_callback(query: CallbackQuery) -> Response:
    payment = charges.find_by_reference(query.reference)
    if payment is None:
        raise not_found("payment")
    view = public_view(_settled(payment))
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(view)
    major_amount = f"{payment.amount // 100:,}.{payment.amount % 100:02d}"
    html = render_template_string(OUTCOME_PAGE, headline=HEADLINES[view["status"]], major_amount=major_amount, **view)
    return Response(html, mimetype="text/html")
