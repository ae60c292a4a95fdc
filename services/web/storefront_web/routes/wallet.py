"""The wallet: balance, top-up through Paystack, history."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, redirect, render_template, request

from ..api import ApiProblem
from ..money import NotAnAmount, parse_amount
from ..pages import FormState, positive_int
from ..sessions import require_user, user_call
from .orders import payment_page

blueprint = Blueprint("wallet", __name__)
KINDS = {"topup": "Top-up", "payment": "Payment", "refund": "Refund", "escrow_release": "Sale paid out to you",
         "payout": "Payout to bank", "payout_reversal": "Payout returned", "fee": "Platform fee"}


def render_wallet(form: FormState | None = None, status: int = 200) -> tuple[str, int]:
    wallet = user_call("payments", "GET", "/api/v1/wallet")
    history = user_call("payments", "GET", "/api/v1/wallet/transactions",
                        params={"page": positive_int(request.args.get("page")), "per_page": 20})
    form = form or FormState()
    form.values.setdefault("idempotency_key", uuid.uuid4().hex)
    return render_template("wallet.html", wallet=wallet, history=history, kinds=KINDS, form=form), status


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
