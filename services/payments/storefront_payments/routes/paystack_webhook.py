"""POST /api/v1/payments/paystack/webhook: public, authenticated by Paystack's signature alone."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, request

from storefront_common.errors import ProblemError
from storefront_common.openapi import operation
from storefront_common.validation import decode_json, request_body

from .. import paystack_events, reverification
from ..dependencies import deps
from ..schemas import WebhookIn, WebhookOut

logger = logging.getLogger("storefront.payments.paystack_webhook")
blueprint = Blueprint("paystack_webhook", __name__, url_prefix="/api/v1/payments/paystack")
SIGNATURE_PARAMETER = {"name": paystack_events.SIGNATURE_HEADER, "required": True,
                       "description": "hex HMAC-SHA512 of the raw body, keyed with the Paystack secret key",
                       "schema": {"type": "string"}}


@blueprint.post("/webhook")
@operation("Paystack events, signed with HMAC-SHA512 of the raw body (x-paystack-signature); "
           "charge.success, refund.processed, refund.failed, transfer.success, transfer.failed, "
           "transfer.reversed are applied once; other valid events are acknowledged",
           response=WebhookOut, errors=(400, 401), request_headers=(SIGNATURE_PARAMETER,))
def paystack_webhook() -> dict[str, Any]:
    raw = request_body()
    secret = deps().settings.paystack_secret_key.get_secret_value()
    if not paystack_events.signature_is_valid(raw, request.headers.get(paystack_events.SIGNATURE_HEADER), secret):
        logger.warning("webhook with a missing or wrong signature")
        raise ProblemError(401, "Missing or invalid x-paystack-signature.")
    event, data = _parse(raw)
    reverification.deliver_now(paystack_events.handle_event(event, data))
    return {"status": "ok"}


def _parse(raw: bytes) -> tuple[str, dict[str, Any]]:
    try:
        body = decode_json(raw)
    except ValueError:
        raise ProblemError(400, "The webhook body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("event"), str) or not isinstance(body.get("data"), dict):
        raise ProblemError(400, "The webhook body must be an object with `event` and `data`.")
    return body["event"], body["data"]


# The body is documented (so fuzzing sends random ones) but parsed only after the signature is checked.
paystack_webhook._operation.body = WebhookIn  # type: ignore[attr-defined]
