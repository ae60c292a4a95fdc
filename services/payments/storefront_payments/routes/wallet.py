"""/api/v1/wallet: balance, history, top-ups and vendor payouts."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from storefront_common.auth import auth_required, current_user_id
from storefront_common.currency import shop_currency
from storefront_common.errors import ProblemError, not_found
from storefront_common.idempotency import idempotent
from storefront_common.openapi import operation
from storefront_common.pagination import PageQuery, envelope
from storefront_common.timeutil import isoformat

from .. import charges, ledger, payouts, store
from ..dependencies import db, deps
from ..models import WALLET, Entry, IdempotencyRecord, Payout, PayoutAccount
from ..schemas import (PayoutAccountIn, PayoutAccountOut, PayoutIn, PayoutOut, TopupIn, TopupOut, WalletOut,
                       WalletTransactionPage)

blueprint = Blueprint("wallet", __name__, url_prefix="/api/v1/wallet")


@blueprint.get("")
@auth_required()
@operation("The caller's wallet balance and, for a vendor, the money held in escrow", response=WalletOut)
def read_wallet() -> dict[str, Any]:
    user_id, currency = current_user_id(), shop_currency()
    return {"balance": ledger.balance_of(db.session, WALLET, currency, user_id), "currency": currency,
            "escrow_pending": store.escrow_pending_for(db.session, user_id)}


@blueprint.get("/transactions")
@auth_required()
@operation("The wallet's movements, newest first", query=PageQuery, response=WalletTransactionPage)
def list_transactions(query: PageQuery) -> dict[str, Any]:
    code = ledger.account_code(WALLET, shop_currency(), current_user_id())
    account_id = store.account_id(db.session, code)
    if account_id is None:
        return envelope([], query.page, query.per_page, 0)
    return store.wallet_history(db.session, account_id, query, _entry)


def _entry(entry: Entry) -> dict[str, Any]:
    return {"id": str(entry.id), "kind": entry.transaction.kind, "amount": entry.amount,
            "balance_after": entry.balance_after, "reference": entry.transaction.reference,
            "created_at": isoformat(entry.created_at)}


@blueprint.post("/topups")
@auth_required()
@idempotent(db, IdempotencyRecord)
@operation("Top the wallet up through Paystack; credited once the charge is confirmed", body=TopupIn,
           response=TopupOut, status=201, errors=(409, 503))
def create_topup(body: TopupIn) -> tuple[dict[str, Any], int]:
    user_id = current_user_id()
    payment = charges.start_topup(user_id, _caller_email(), body.amount)
    return {"reference": payment.reference, "authorization_url": payment.authorization_url,
            "access_code": payment.access_code, "status": "pending", "amount": payment.amount,
            "currency": payment.currency}, 201


def _caller_email() -> str:
    """Paystack needs the payer's email: the users service knows it, asked with the caller's own token."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    response = deps().users.get("/api/v1/users/me", bearer=token)
    if response.status_code == 401:
        raise ProblemError(401, "The users service did not accept this token.",
                           headers={"WWW-Authenticate": 'Bearer realm="storefront"'})
    try:
        email = response.json().get("email") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        email = None
    if not isinstance(email, str) or not email:
        raise ProblemError(503, "The users service could not tell the account's email.", headers={"Retry-After": "5"})
    return email


@blueprint.get("/payout-account")
@auth_required("vendor")
@operation("The vendor's payout bank account; 404 until one is set", response=PayoutAccountOut, errors=(404,))
def read_payout_account() -> dict[str, Any]:
    account = store.payout_account(db.session, current_user_id())
    if account is None:
        raise not_found("payout account")
    return _payout_account(account)


@blueprint.put("/payout-account")
@auth_required("vendor")
@operation("Set the vendor's payout bank account (resolved and registered with Paystack)",
           body=PayoutAccountIn, response=PayoutAccountOut, errors=(503,))
def put_payout_account(body: PayoutAccountIn) -> dict[str, Any]:
    account = payouts.set_payout_account(current_user_id(), body.account_number, body.bank_code)
    return _payout_account(account)


def _payout_account(account: PayoutAccount) -> dict[str, Any]:
    return {"account_number": account.account_number, "bank_code": account.bank_code,
            "account_name": account.account_name, "updated_at": isoformat(account.updated_at)}


@blueprint.post("/payouts")
@auth_required("vendor")
@idempotent(db, IdempotencyRecord)
@operation("Pay wallet money out to the vendor's bank account", body=PayoutIn, response=PayoutOut, status=201,
           errors=(402, 409))
def create_payout(body: PayoutIn) -> tuple[dict[str, Any], int]:
    payout = payouts.create_payout(current_user_id(), body.amount)
    store.reload(db.session, payout)
    return _payout(payout), 201


def _payout(payout: Payout) -> dict[str, Any]:
    return {"id": str(payout.id), "reference": payout.reference, "amount": payout.amount,
            "currency": payout.currency, "status": payout.status, "failure_reason": payout.failure_reason,
            "created_at": isoformat(payout.created_at)}
