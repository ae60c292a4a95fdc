"""The vendor console: my products (create, edit with the category's attributes, images, stock) and the
orders to fulfil (ship, deliver). Money is the wallet page (escrow held until delivery, then paid out)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..api import ApiProblem
from ..money import NotAnAmount, parse_amount
from ..pages import FormState, positive_int
from ..sessions import require_user, user_call
from .orders import STATUS_NAMES

blueprint = Blueprint("vendor", __name__, url_prefix="/vendor")
NEXT_STATUS = {"paid": "shipped", "shipped": "delivered"}  # what a vendor may move an order to
# The form's fields -> the API's, where they differ (the price is typed in naira, the API takes kobo).
PRODUCT_FIELDS = {"price": "price", "stock": "stock", "category_id": "category_id"}


def categories() -> list[dict[str, Any]]:
    return user_call("products", "GET", "/api/v1/categories")["items"]  # type: ignore[no-any-return]


@blueprint.get("")
def index() -> str:
    user = require_user("vendor")
    page = user_call("products", "GET", "/api/v1/products",
                     params={"vendor_id": user.user_id, "per_page": 50, "page": positive_int(request.args.get("page")),
                             "sort": "-created_at"})
    return render_template("vendor/products.html", page=page)


def _product_form(form: FormState, product: dict[str, Any] | None, status: int = 200) -> tuple[str, int]:
    known = categories()
    chosen = form.value("category_id") or (product["category"]["id"] if product else "")
    category = next((item for item in known if item["id"] == chosen), None)
    return render_template("vendor/product_form.html", form=form, product=product, categories=known,
                           category=category), status


def _body_of(form: FormState, category: dict[str, Any] | None, creating: bool) -> dict[str, Any]:
    """The API's body from the form; a typing mistake the API would not understand goes in form.errors."""
    body: dict[str, Any] = {"name": form.value("name").strip(), "description": form.value("description").strip(),
                            "category_id": form.value("category_id"),
                            "is_active": form.value("is_active") == "1",
                            "images": [line.strip() for line in form.value("images").splitlines() if line.strip()]}
    try:
        body["price"] = parse_amount(form.value("price"))
    except NotAnAmount as error:
        form.errors["price"] = str(error)
    if creating:
        try:
            body["stock"] = int(form.value("stock"))
        except ValueError:
            form.errors["stock"] = "Enter a whole number of items, 0 or more."
    names = (category or {}).get("attributes") or []
    body["attributes"] = {name: form.value(f"attribute_{name}").strip() for name in names
                          if form.value(f"attribute_{name}").strip()}
    return body


@blueprint.route("/products/new", methods=["GET", "POST"])
def new_product() -> Any:
    require_user("vendor")
    if request.method == "GET" or request.form.get("choose") == "1":
        values = {"is_active": "1", "stock": "1", **FormState.posted().values} if request.method == "POST" \
            else {"is_active": "1", "stock": "1", "category_id": request.args.get("category_id", "")}
        return _product_form(FormState(values=values), None)
    form = FormState.posted()
    category = next((item for item in categories() if item["id"] == form.value("category_id")), None)
    body = _body_of(form, category, creating=True)
    if form.errors:
        form.message = "Check the fields marked below."
        return _product_form(form, None, 422)
    try:
        created = user_call("products", "POST", "/api/v1/products", json=body)
    except ApiProblem as problem:
        return _product_form(form.refused(problem, fields={"attributes": "attributes"}), None, problem.status)
    flash("Your product is on sale." if created["is_active"] else "Your product is saved (not on sale).")
    return redirect(url_for("vendor.edit_product", product_id=created["id"]), 303)


def _own_product(product_id: str) -> dict[str, Any]:
    user = require_user("vendor")
    try:
        product = user_call("products", "GET", f"/api/v1/products/{product_id}")
    except ApiProblem as problem:
        if problem.status in (404, 422):
            abort(404)
        raise
    if product["vendor_id"] != user.user_id and not user.has("admin"):
        abort(404)
    return product  # type: ignore[no-any-return]


def _values_of(product: dict[str, Any]) -> dict[str, Any]:
    values = {"name": product["name"], "description": product.get("description") or "",
              "price": f"{product['price'] / 100:.2f}", "category_id": product["category"]["id"],
              "images": "\n".join(product.get("images") or []), "is_active": "1" if product["is_active"] else "",
              "stock": str(product["stock"])}
    values.update({f"attribute_{name}": value for name, value in (product.get("attributes") or {}).items()})
    return values


@blueprint.route("/products/<product_id>", methods=["GET", "POST"])
def edit_product(product_id: str) -> Any:
    product = _own_product(product_id)
    if request.method == "GET":
        return _product_form(FormState(values=_values_of(product)), product)
    form = FormState.posted()
    if request.form.get("choose") == "1":
        return _product_form(form, product)
    category = next((item for item in categories() if item["id"] == form.value("category_id")), None)
    body = _body_of(form, category, creating=False)
    if form.errors:
        form.message = "Check the fields marked below."
        return _product_form(form, product, 422)
    try:
        user_call("products", "PATCH", f"/api/v1/products/{product_id}", json=body)
    except ApiProblem as problem:
        return _product_form(form.refused(problem), product, problem.status)
    flash("Saved.")
    return redirect(url_for("vendor.edit_product", product_id=product_id), 303)


@blueprint.post("/products/<product_id>/stock")
def set_stock(product_id: str) -> Any:
    product = _own_product(product_id)
    form = FormState(values=_values_of(product))
    try:
        stock = int(request.form.get("new_stock", ""))
    except ValueError:
        form.errors["new_stock"] = "Enter a whole number of items, 0 or more."
        return _product_form(form, product, 422)
    try:
        user_call("products", "POST", f"/api/v1/products/{product_id}/inventory", json={"stock": stock})
    except ApiProblem as problem:
        form.refused(problem)
        form.errors.setdefault("new_stock", form.errors.get("stock") or problem.message)
        return _product_form(form, product, problem.status)
    flash(f"Stock is now {stock}.")
    return redirect(url_for("vendor.edit_product", product_id=product_id), 303)


@blueprint.get("/orders")
def orders() -> str:
    require_user("vendor")
    status = request.args.get("status", "paid")
    params: dict[str, Any] = {"scope": "vendor", "page": positive_int(request.args.get("page")), "per_page": 20}
    if status in STATUS_NAMES:
        params["status"] = status
    found = user_call("orders", "GET", "/api/v1/orders", params=params)
    return render_template("vendor/orders.html", orders=found, status=status, status_names=STATUS_NAMES,
                           next_status=NEXT_STATUS, scope="vendor")


@blueprint.post("/orders/<order_id>/status")
def move_order(order_id: str) -> Any:
    user = require_user()
    if not (user.has("vendor") or user.has("admin")):
        abort(404)
    status = request.form.get("status", "")
    try:
        user_call("orders", "PATCH", f"/api/v1/orders/{order_id}/status", json={"status": status})
        flash(f"The order is marked {STATUS_NAMES.get(status, status).lower()}.")
    except ApiProblem as problem:
        if problem.status == 404:
            abort(404)
        flash(problem.message if problem.status != 409 else "That order cannot move to that status now.")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("vendor.orders"), 303)
