"""The hosted checkout page behind `authorization_url`.

Links and form actions are relative, so the page works unchanged when the
simulator is mounted under a prefix such as `/_paystack`, whether or not the
gateway sets SCRIPT_NAME.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, render_template
from werkzeug.wrappers import Response

from . import shapes
from .config import SimulatorConfig
from .settlement import AlreadySettled, settle_transaction
from .state import Store, Transaction

bp = Blueprint("checkout", __name__)

_CURRENCY_SYMBOLS = {"NGN": "₦", "GHS": "GH₵", "KES": "KSh", "ZAR": "R", "USD": "$"}

_RESULTS = {
    "success": ("Payment successful", "Your payment was received."),
    "reversed": ("Payment refunded", "This payment was received and later refunded."),
    "failed": ("Payment declined", "Your payment was declined. No money was taken."),
    "abandoned": ("Payment not completed", "This payment was cancelled before it was completed."),
}


def format_amount(amount: int) -> str:
    """Subunits (kobo) as major units with separators: 500000 -> '5,000.00'."""
    return f"{amount // 100:,}.{amount % 100:02d}"


def callback_with_reference(callback_url: str, reference: str) -> str:
    # Paystack appends both trxref and reference to the callback URL.
    parts = urlsplit(callback_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [("trxref", reference), ("reference", reference)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _store() -> Store:
    return current_app.extensions["paystack_sim.store"]


def _config() -> SimulatorConfig:
    return current_app.extensions["paystack_sim.config"]


def _view(txn: Transaction) -> dict[str, Any]:
    with _store().lock:
        return {
            "access_code": txn.access_code,
            "reference": txn.reference,
            "email": txn.customer.email,
            "amount": format_amount(txn.amount),
            "currency": txn.currency,
            "symbol": _CURRENCY_SYMBOLS.get(txn.currency, ""),
            "status": shapes.visible_status(txn),
            "pending": txn.status == "pending",
            "back_url": callback_with_reference(txn.callback_url, txn.reference) if txn.callback_url else None,
        }


@bp.after_request
def _page_policy(response: Response) -> Response:
    # The pages load nothing: their style is inline and the favicon a data: URL.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _not_found() -> tuple[str, int]:
    return render_template("not_found.html"), 404


def _result(txn: Transaction, http_status: int = 200) -> tuple[str, int]:
    """The one final outcome of a settled transaction, and the way back to the shop."""
    view = _view(txn)
    title, message = _RESULTS[view["status"]]
    return render_template("result.html", title=title, message=message, settled_earlier=http_status == 409,
                           **view), http_status


@bp.get("/checkout/<access_code>")
def show(access_code: str) -> tuple[str, int]:
    txn = _store().transaction_by_access_code(access_code)
    if txn is None:
        return _not_found()
    view = _view(txn)
    if not view["pending"]:
        return _result(txn)
    return render_template("checkout.html", **view), 200


@bp.post("/checkout/<access_code>/pay")
def pay(access_code: str) -> Response | tuple[str, int]:
    return _settle(access_code, "success")


@bp.post("/checkout/<access_code>/decline")
def decline(access_code: str) -> Response | tuple[str, int]:
    return _settle(access_code, "failed")


def _settle(access_code: str, outcome: str) -> Response | tuple[str, int]:
    """Settle, then show the outcome (POST, redirect, GET: reloading the outcome submits nothing again).
    A form from a stale page gets 409 and the outcome that already stands, never a second one."""
    store = _store()
    txn = store.transaction_by_access_code(access_code)
    if txn is None:
        return _not_found()
    try:
        settle_transaction(store, _config(), txn, outcome)
    except AlreadySettled:
        return _result(txn, 409)
    # Relative to .../checkout/<code>/pay, this is .../checkout/<code>.
    return redirect(f"../{access_code}", 303)
