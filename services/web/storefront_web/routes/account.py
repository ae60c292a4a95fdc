"""Accounts: register, log in and out, confirm the e-mail address, reset a forgotten password."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..api import ApiProblem
from ..dependencies import deps
from ..pages import FormState, safe_next
from ..sessions import current_user, require_user, sign_in, sign_out, user_call

blueprint = Blueprint("account", __name__)
REGISTER_FIELDS = ("email", "password", "first_name", "last_name", "phone", "business_name")


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if request.method == "GET":
        return render_template("register.html", form=FormState(values={"role": "customer"}))
    form = FormState.posted()
    body = {name: form.value(name).strip() for name in REGISTER_FIELDS if form.value(name).strip()}
    body["password"] = form.value("password")
    body["role"] = "vendor" if form.value("role") == "vendor" else "customer"
    if body["role"] == "customer":
        body.pop("business_name", None)
    try:
        deps().api.call("users", "POST", "/api/v1/auth/register", json=body)  # it mails the confirmation link
    except ApiProblem as problem:
        form.values.pop("password", None)
        return render_template("register.html", form=form.refused(problem)), problem.status
    try:
        sign_in(body.get("email", ""), body["password"])
    except ApiProblem:  # REQUIRE_VERIFIED_EMAIL: no login before the address is confirmed
        flash("Your account is created. Open the link we have e-mailed you to confirm your address, then log in.")
        return redirect(url_for("account.login"), 303)
    flash("Welcome! We have sent you an e-mail: open its link to confirm your address.")
    return redirect(url_for("shop.home"), 303)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_page = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", form=FormState(), next_page=next_page)
    form = FormState.posted()
    try:
        sign_in(form.value("email").strip(), form.value("password"))
    except ApiProblem as problem:
        form.values.pop("password", None)
        if problem.status == 401:
            problem.detail = "That e-mail and password do not match an account."
        return render_template("login.html", form=form.refused(problem), next_page=next_page), problem.status
    return redirect(next_page, 303)


@blueprint.post("/logout")
def logout() -> Any:
    sign_out()
    flash("You are logged out.")
    return redirect(url_for("shop.home"), 303)


@blueprint.route("/verify-email", methods=["GET", "POST"])
def verify_email() -> Any:
    """The link the users service mails (PUBLIC_URL/verify-email?token=...): one button confirms it, so a
    mail scanner that follows links cannot use the token up."""
    if request.method == "GET":
        return render_template("verify_email.html", token=request.args.get("token", ""), form=FormState())
    token = request.form.get("token", "")
    try:
        deps().api.call("users", "POST", "/api/v1/auth/verify-email", json={"token": token})
    except ApiProblem as problem:
        if problem.errors or problem.status in (400, 404, 409, 410, 422):
            problem.detail = "This confirmation link is not valid any more. Ask for a new one from your account page."
        return render_template("verify_email.html", token="", form=FormState().refused(problem)), problem.status
    flash("Your e-mail address is confirmed.")
    return redirect(url_for("account.me") if current_user() else url_for("account.login"), 303)


@blueprint.route("/account", methods=["GET", "POST"])
def me() -> Any:
    require_user()
    form = FormState()
    status = 200
    if request.method == "POST":
        form = FormState.posted()
        body = {name: form.value(name).strip() for name in ("first_name", "last_name", "phone", "business_name")
                if name in form.values}
        if not body.get("phone"):
            body.pop("phone", None)
        if not body.get("business_name"):
            body.pop("business_name", None)
        try:
            user_call("users", "PATCH", "/api/v1/users/me", json=body)
            flash("Your details are saved.")
            return redirect(url_for("account.me"), 303)
        except ApiProblem as problem:
            form.refused(problem)
            status = problem.status
    user = user_call("users", "GET", "/api/v1/users/me")
    return render_template("account.html", user=user, form=form), status


@blueprint.post("/account/verify-email")
def resend_verification() -> Any:
    require_user()
    user_call("users", "POST", "/api/v1/auth/verify-email/request")
    flash("We have sent you a new confirmation e-mail.")
    return redirect(url_for("account.me"), 303)


@blueprint.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> Any:
    if request.method == "GET":
        return render_template("forgot_password.html", form=FormState())
    form = FormState.posted()
    try:
        deps().api.call("users", "POST", "/api/v1/auth/password-reset", json={"email": form.value("email").strip()})
    except ApiProblem as problem:
        return render_template("forgot_password.html", form=form.refused(problem)), problem.status
    flash("If that address has an account, we have sent it a link to choose a new password.")
    return redirect(url_for("account.login"), 303)


@blueprint.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> Any:
    """The link the users service mails (PUBLIC_URL/reset-password?token=...)."""
    if request.method == "GET":
        return render_template("reset_password.html", token=request.args.get("token", ""), form=FormState())
    form = FormState.posted()
    token = form.value("token")
    try:
        deps().api.call("users", "POST", "/api/v1/auth/password-reset/confirm",
                        json={"token": token, "new_password": form.value("new_password")})
    except ApiProblem as problem:
        form.values.pop("new_password", None)
        form.refused(problem)
        if "token" in form.errors or problem.status in (400, 404, 410):
            form.message = "This reset link is not valid any more. Ask for a new one."
        return render_template("reset_password.html", token=token, form=form), problem.status
    flash("Your password is changed. Log in with the new one.")
    return redirect(url_for("account.login"), 303)
