"""The admin console: accounts (search, roles, deactivate), categories, every order. Only what the public
API offers an admin (there is no ledger-health route in it, so no such page)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..api import ApiProblem
from ..pages import FormState, positive_int
from ..sessions import require_user, user_call
from .orders import STATUS_NAMES
from .vendor import NEXT_STATUS

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
ROLES = ("customer", "vendor", "admin")


@blueprint.get("")
def index() -> Any:
    require_user("admin")
    return redirect(url_for("admin.users"), 303)


@blueprint.get("/users")
def users() -> str:
    require_user("admin")
    query = {"q": request.args.get("q", "").strip(), "role": request.args.get("role", "")}
    params: dict[str, Any] = {"page": positive_int(request.args.get("page")), "per_page": 25}
    if query["q"]:
        params["q"] = query["q"]
    if query["role"] in ROLES:
        params["role"] = query["role"]
    found = user_call("users", "GET", "/api/v1/users", params=params)
    return render_template("admin/users.html", users=found, query=query, roles=ROLES)


@blueprint.post("/users/<user_id>")
def update_user(user_id: str) -> Any:
    require_user("admin")
    body: dict[str, Any] = {}
    if request.form.get("change") == "roles":
        body["roles"] = [role for role in ROLES if request.form.get(f"role_{role}") == "1"]
    elif request.form.get("change") == "active":
        body["is_active"] = request.form.get("is_active") == "1"
    try:
        changed = user_call("users", "PATCH", f"/api/v1/users/{user_id}", json=body)
        flash(f"{changed['email']}: saved.")
    except ApiProblem as problem:
        flash(problem.message if not problem.field_errors else
              "; ".join(f"{name}: {message}" for name, message in problem.field_errors.items() if "." not in name))
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/admin/") else url_for("admin.users"), 303)


@blueprint.route("/categories", methods=["GET", "POST"])
def categories() -> Any:
    require_user("admin")
    form = FormState()
    status = 200
    if request.method == "POST":
        form = FormState.posted()
        body = {"name": form.value("name").strip(), "description": form.value("description").strip(),
                "attributes": [name.strip() for name in form.value("attributes").split(",") if name.strip()]}
        try:
            user_call("products", "POST", "/api/v1/categories", json=body)
            flash(f"Category {body['name']} created.")
            return redirect(url_for("admin.categories"), 303)
        except ApiProblem as problem:
            form.refused(problem)
            status = problem.status
    found = user_call("products", "GET", "/api/v1/categories")["items"]
    return render_template("admin/categories.html", categories=found, form=form), status


@blueprint.post("/categories/<category_id>/delete")
def delete_category(category_id: str) -> Any:
    require_user("admin")
    try:
        user_call("products", "DELETE", f"/api/v1/categories/{category_id}")
        flash("Category deleted.")
    except ApiProblem as problem:
        flash(problem.message if problem.status != 409 else "It still has products on sale: it cannot be deleted.")
    return redirect(url_for("admin.categories"), 303)


@blueprint.get("/orders")
def orders() -> str:
    require_user("admin")
    status = request.args.get("status", "")
    params: dict[str, Any] = {"scope": "all", "page": positive_int(request.args.get("page")), "per_page": 25}
    if status in STATUS_NAMES:
        params["status"] = status
    found = user_call("orders", "GET", "/api/v1/orders", params=params)
    return render_template("vendor/orders.html", orders=found, status=status, status_names=STATUS_NAMES,
                           next_status=NEXT_STATUS, scope="all")
