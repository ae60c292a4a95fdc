"""Orders as the contract shows them."""
from __future__ import annotations

from typing import Any

from storefront_common.timeutil import isoformat

from .models import Order


def order_out(order: Order) -> dict[str, Any]:
    payment: dict[str, Any] = {"method": order.payment_method, "status": order.payment_status,
                               "reference": order.payment_reference}
    if order.authorization_url:
        payment["authorization_url"] = order.authorization_url
    return {
        "id": str(order.id),
        "status": order.status,
        "items": [{"product_id": str(item.product_id), "name": item.name, "unit_price": item.unit_price,
                   "quantity": item.quantity, "line_total": item.line_total, "vendor_id": str(item.vendor_id)}
                  for item in order.items],
        "subtotal": order.subtotal,
        "total": order.total,
        "currency": order.currency,
        "shipping_address": order.shipping_address,
        "payment": payment,
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.updated_at),
    }
