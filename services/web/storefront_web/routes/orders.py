"""Checkout (wallet or Paystack), the page Paystack sends the browser back to, orders and cancelling."""
from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..api import ApiProblem
from ..pages import FormState, positive_int
from ..sessions import require_user, user_call

blueprint = Blueprint("orders", __name__)
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country", "phone")
STEPS = ("pending", "paid", "shipped", "delivered")
STEP_NAMES = {"pending": "Placed", "paid": "Paid", "shipped": "Shipped", "delivered": "Delivered"}
STATUS_NAMES = {"pending": "Awaiting payment", "paid": "Paid", "shipped": "Shipped", "delivered": "Delivered",
                "cancelled": "Cancelled"}
PAYMENT_STATUS_NAMES = {"pending": "not paid yet", "success": "paid", "failed": "failed",
                        "refund_pending": "refund on its way", "refunded": "refunded"}


def payment_page(url: str | None) -> str | None:
    """The API's authorization_url, if it is a web address a browser may be sent to."""
    return url if url and urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else None


def render_checkout(form: FormState | None = None, status: int = 200) -> tuple[str, int]:
    cart = user_call("carts", "GET", "/api/v1/cart")
    wallet = user_call("payments", "GET", "/api/v1/wallet")
    form = form or FormState(values={"payment_method": "wallet", "country": "NG"})
    form.values.setdefault("idempotency_key", uuid.uuid4().hex)  # one order however often the form is sent
    return render_template("checkout.html", cart=cart, wallet=wallet, form=form), status


@blueprint.get("/checkout")
def checkout() -> Any:
    require_user()
    return render_checkout()


@blueprint.post("/checkout")
def place_order() -> Any:
    require_user()
    form = FormState.posted()
    address = {name: form.value(name).strip() for name in ADDRESS_FIELDS if form.value(name).strip()}
    body = {"shipping_address": address,
            "payment_method": "paystack" if form.value("payment_method") == "paystack" else "wallet"}
    try:
        order = user_call("orders", "POST", "/api/v1/orders", json=body,
                          idempotency_key=form.value("idempotency_key") or uuid.uuid4().hex)
    except ApiProblem as problem:
        if problem.status == 402:
            problem.detail = "Your wallet balance is too low for this order. Top it up or pay with Paystack."
        elif problem.status == 409 and "insufficient" in problem.detail.lower():
            problem.detail = "Some items are no longer in stock in that quantity. Check your cart."
        form.refused(problem)
        if problem.status != 409 or "Idempotency" not in problem.detail:
            form.values["idempotency_key"] = uuid.uuid4().hex  # the next attempt is a new order
        return render_checkout(form, problem.status)
    target = payment_page(order["payment"].get("authorization_url"))
    if order["status"] == "pending" and target:
        return redirect(target, 303)
    flash("Thank you! Your order is placed.")
    return redirect(url_for("orders.detail", order_id=order["id"]), 303)


@blueprint.get("/payments/callback")
def payment_callback() -> Any:
    """Where Paystack sends the browser back (PAYSTACK_CALLBACK_URL): the payment is verified on the way."""
    require_user()
    reference = request.args.get("reference") or request.args.get("trxref") or ""
    if not reference:
        abort(404)
    try:
        payment = user_call("payments", "GET", f"/api/v1/payments/{reference}")
    except ApiProblem as problem:
        if problem.status in (404, 422):
            abort(404)
        raise
    outcome = {"success": "Payment received.", "pending": "Your payment is still being confirmed.",
               "failed": "The payment did not go through.", "abandoned": "The payment was not completed.",
               "refunded": "This payment was refunded."}.get(payment["status"], "")
    flash(outcome)
    if payment.get("purpose") == "order" and payment.get("order_id"):
        return redirect(url_for("orders.detail", order_id=payment["order_id"]), 303)
    return redirect(url_for("wallet.view"), 303)


@blueprint.get("/orders")
def index() -> str:
    require_user()
    status = request.args.get("status", "")
    params: dict[str, Any] = {"page": positive_int(request.args.get("page")), "per_page": 20}
    if status in STATUS_NAMES:
        params["status"] = status
    orders = user_call("orders", "GET", "/api/v1/orders", params=params)
    return render_template("orders.html", orders=orders, status=status, status_names=STATUS_NAMES)


def timeline(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The status machine's steps, those reached marked done; a cancelled order ends where it was cancelled."""
    if order["status"] == "cancelled":
        reached = 1 if order["payment"].get("status") in ("success", "refunded") else 0
        return [{"name": STEP_NAMES[step], "state": "done"} for step in STEPS[:reached + 1]] + \
            [{"name": "Cancelled", "state": "current"}]
    position = STEPS.index(order["status"]) if order["status"] in STEPS else 0
    return [{"name": STEP_NAMES[step], "state": "done" if index < position else
             "current" if index == position else "todo"} for index, step in enumerate(STEPS)]


def _order_or_404(order_id: str) -> dict[str, Any]:
    try:
        return user_call("orders", "GET", f"/api/v1/orders/{order_id}")  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status in (404, 422):
            abort(404)
        raise


@blueprint.get("/orders/<order_id>")
def detail(order_id: str) -> str:
    user = require_user()
    order = _order_or_404(order_id)
    return render_template("order.html", order=order, steps=timeline(order), status_names=STATUS_NAMES,
                           payment_status_names=PAYMENT_STATUS_NAMES, payment_url=payment_page(order["payment"].get("authorization_url")),
                           can_cancel=order["status"] in ("pending", "paid") and (user.has("customer") or user.has("admin")))


@blueprint.post("/orders/<order_id>/cancel")
def cancel(order_id: str) -> Any:
    require_user()
    try:
        user_call("orders", "POST", f"/api/v1/orders/{order_id}/cancel")
    except ApiProblem as problem:
        if problem.status == 404:
            abort(404)
        flash(problem.message if problem.status != 409 else "This order can no longer be cancelled.")
        return redirect(url_for("orders.detail", order_id=order_id), 303)
    flash("Your order is cancelled. Any payment is refunded.")
    return redirect(url_for("orders.detail", order_id=order_id), 303)
