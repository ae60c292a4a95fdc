"""The wallet: balance, top-up through Paystack, history."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..api import ApiProblem
from ..money import NotAnAmount, parse_amount
from ..pages import FormState, positive_int
from ..sessions import require_user, user_call
from .orders import payment_page

blueprint = Blueprint("wallet", __name__)
KINDS = {"topup": "Top-up", "payment": "Payment", "refund": "Refund", "escrow_release": "Sale paid out to you",
         "payout": "Payout to bank", "payout_reversal": "Payout returned", "fee": "Platform fee"}


def payout_account() -> dict[str, Any] | None:
    try:
        return user_call("payments", "GET", "/api/v1/wallet/payout-account")  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status == 404:  # none set yet
            return None
        raise


def render_wallet(form: FormState | None = None, status: int = 200, *, payout_form: FormState | None = None,
                  account_form: FormState | None = None) -> tuple[str, int]:
    user = require_user()
    wallet = user_call("payments", "GET", "/api/v1/wallet")
    history = user_call("payments", "GET", "/api/v1/wallet/transactions",
                        params={"page": positive_int(request.args.get("page")), "per_page": 20})
    form = form or FormState()
    form.values.setdefault("idempotency_key", uuid.uuid4().hex)
    payout_form = payout_form or FormState()
    payout_form.values.setdefault("idempotency_key", uuid.uuid4().hex)
    account = payout_account() if user.has("vendor") else None
    return render_template("wallet.html", wallet=wallet, history=history, kinds=KINDS, form=form,
                           payout_form=payout_form, account=account,
                           account_form=account_form or FormState(values=dict(account or {}))), status


@blueprint.get("/wallet")
def view() -> tuple[str, int]:
    require_user()
    return render_wallet()


@blueprint.post("/wallet/topup")
def top_up() -> Any:
    require_user()
    form = FormState.posted()
    try:
        amount = parse_amount(form.value("amount"))
    except NotAnAmount as error:
        form.errors["amount"] = str(error)
        form.message = "Check the amount."
        return render_wallet(form, 422)
    try:
        topup = user_call("payments", "POST", "/api/v1/wallet/topups", json={"amount": amount},
                          idempotency_key=form.value("idempotency_key") or uuid.uuid4().hex)
    except ApiProblem as problem:
        form.values["idempotency_key"] = uuid.uuid4().hex
        return render_wallet(form.refused(problem), problem.status)
    target = payment_page(topup.get("authorization_url"))
    if target is None:
        form.message = "The payment page is not available. Try again shortly."
        return render_wallet(form, 502)
    return redirect(target, 303)


@blueprint.post("/wallet/payout-account")
def set_payout_account() -> Any:
    require_user("vendor")
    form = FormState.posted()
    body = {"account_number": form.value("account_number").strip(), "bank_code": form.value("bank_code").strip()}
    try:
        account = user_call("payments", "PUT", "/api/v1/wallet/payout-account", json=body)
    except ApiProblem as problem:
        return render_wallet(status=problem.status, account_form=form.refused(problem))
    flash(f"Payouts go to {account['account_name']}, account {account['account_number']}.")
    return redirect(url_for("wallet.view"), 303)


@blueprint.post("/wallet/payouts")
def pay_out() -> Any:
    require_user("vendor")
    form = FormState.posted()
    try:
        amount = parse_amount(form.value("amount"))
    except NotAnAmount as error:
        form.errors["amount"] = str(error)
        form.message = "Check the amount."
        return render_wallet(status=422, payout_form=form)
    try:
        payout = user_call("payments", "POST", "/api/v1/wallet/payouts", json={"amount": amount},
                           idempotency_key=form.value("idempotency_key") or uuid.uuid4().hex)
    except ApiProblem as problem:
        if problem.status == 402:
            problem.detail = "Your wallet balance is lower than that amount."
        form.values["idempotency_key"] = uuid.uuid4().hex
        return render_wallet(status=problem.status, payout_form=form.refused(problem))
    flash("The payout is on its way to your bank." if payout["status"] != "failed" else
          f"The bank transfer failed ({payout.get('failure_reason') or 'no reason given'}); the money is back in "
          "your wallet.")
    return redirect(url_for("wallet.view"), 303)
