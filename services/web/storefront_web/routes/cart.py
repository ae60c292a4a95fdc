"""The cart: add from a product page, change quantities, remove lines, empty it."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from ..api import ApiProblem
from ..pages import FormState, positive_int
from ..sessions import current_user, require_user, user_call
from .shop import render_product

blueprint = Blueprint("cart", __name__)


def stock_message(line: dict[str, Any]) -> str:
    """What a shopper needs to know about a line's stock before checking out."""
    available = int(line.get("available") or 0)
    if available <= 0:
        return "Out of stock: remove it to check out."
    if line["quantity"] > available:
        return f"Only {available} left: lower the quantity to check out."
    if available <= 5:
        return f"Only {available} left."
    return ""


def render_cart(form: FormState | None = None, status: int = 200) -> tuple[str, int]:
    cart = user_call("carts", "GET", "/api/v1/cart")
    messages = {line["product_id"]: stock_message(line) for line in cart["items"]}
    blocked = any(line["quantity"] > int(line.get("available") or 0) for line in cart["items"])
    return render_template("cart.html", cart=cart, stock_messages=messages, blocked=blocked,
                           form=form or FormState()), status


@blueprint.get("/cart")
def view() -> tuple[str, int]:
    require_user()
    return render_cart()


@blueprint.post("/cart/items")
def add() -> Any:
    form = FormState.posted()
    product_id = form.value("product_id")
    if current_user() is None:  # after logging in, back to the product rather than to this POST's address
        flash("Log in or create an account to fill a cart.")
        return redirect(url_for("account.login", next=url_for("shop.product", product_id=product_id)), 303)
    try:
        user_call("carts", "POST", "/api/v1/cart/items",
                  json={"product_id": product_id, "quantity": positive_int(form.value("quantity"), 0)})
    except ApiProblem as problem:
        if problem.status == 409:
            problem.detail = "There is not enough of this in stock for that quantity."
        return render_product(product_id, cart_form=form.refused(problem), status=problem.status)
    flash("Added to your cart.")
    return redirect(url_for("cart.view"), 303)


@blueprint.post("/cart/items/<product_id>")
def set_quantity(product_id: str) -> Any:
    require_user()
    form = FormState.posted()
    try:
        quantity = int(form.value("quantity"))
    except ValueError:
        quantity = -1
    try:
        user_call("carts", "PUT", f"/api/v1/cart/items/{product_id}", json={"quantity": quantity})
    except ApiProblem as problem:
        if problem.status == 409:
            problem.detail = "There is not enough in stock for that quantity."
        form.refused(problem)
        form.errors.setdefault(f"quantity-{product_id}", form.errors.get("quantity") or problem.message)
        return render_cart(form, problem.status)
    return redirect(url_for("cart.view"), 303)


@blueprint.post("/cart/items/<product_id>/remove")
def remove(product_id: str) -> Any:
    require_user()
    user_call("carts", "DELETE", f"/api/v1/cart/items/{product_id}")
    return redirect(url_for("cart.view"), 303)


@blueprint.post("/cart/clear")
def clear() -> Any:
    require_user()
    user_call("carts", "DELETE", "/api/v1/cart")
    flash("Your cart is empty.")
    return redirect(url_for("cart.view"), 303)
