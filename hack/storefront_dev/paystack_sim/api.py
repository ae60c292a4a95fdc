"""The Paystack API endpoints the simulator implements.

Request fields, response `data` and error wording follow paystack-openapi.yaml
and Paystack's observed behaviour; see README.md for where they were unclear.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from . import banks, shapes
from .config import SimulatorConfig
from .state import Recipient, Refund, Store, Transaction, Transfer, now, random_token
from .webhooks import send_event_in_background

bp = Blueprint("paystack_api", __name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")
# Paystack: "Only -, ., = and alphanumeric characters allowed."
_TRANSACTION_REFERENCE = re.compile(r"^[A-Za-z0-9.=-]{1,100}$")
# Paystack: "a lowercase alphanumeric string with only -,_ symbols allowed", minimum 16.
_TRANSFER_REFERENCE = re.compile(r"^[a-z0-9_-]{16,100}$")
# Refund ids are integers; a longer digit string is not one of ours (and int() refuses very long ones).
_REFUND_ID = re.compile(r"[0-9]{1,18}")
_CHANNELS = {"card", "bank", "ussd", "qr", "eft", "mobile_money", "bank_transfer"}


class PaystackError(Exception):
    """An error answered in Paystack's shape: {status: false, message, type?, code?, meta?}."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        type_: str | None = "validation_error",
        code: str | None = None,
        next_step: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.type = type_
        self.code = code
        self.next_step = next_step

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": False, "message": self.message}
        if self.next_step:
            body["meta"] = {"nextStep": self.next_step}
        if self.type:
            body["type"] = self.type
        if self.code:
            body["code"] = self.code
        return body


@bp.errorhandler(PaystackError)
def _paystack_error(error: PaystackError) -> tuple[Response, int]:
    return jsonify(error.body()), error.http_status


@bp.before_request
def _require_secret_key() -> tuple[Response, int] | None:
    expected = f"Bearer {_config().secret_key}".encode()
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        return jsonify({"status": False, "message": "Invalid key"}), 401
    return None


def _config() -> SimulatorConfig:
    return current_app.extensions["paystack_sim.config"]


def _store() -> Store:
    return current_app.extensions["paystack_sim.store"]


def _ok(message: str, data: Any, http_status: int = 200, **extra: Any) -> tuple[Response, int]:
    return jsonify({"status": True, "message": message, "data": data, **extra}), http_status


def _body() -> dict[str, Any]:
    """The request fields; Paystack accepts JSON and form-encoded bodies."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.to_dict()
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise PaystackError(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise PaystackError(400, "Request body must be a JSON object")
    return body


def _required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PaystackError(400, f"{name} is required")
    return value.strip()


def _amount(value: Any) -> int:
    # Paystack takes subunits as an integer or a string of digits; never a float.
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        amount = int(value.strip())
    else:
        raise PaystackError(400, "Invalid Amount Sent")
    if amount <= 0:
        raise PaystackError(400, "Invalid Amount Sent")
    return amount


def _email(body: dict[str, Any]) -> str:
    email = body.get("email")
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise PaystackError(400, "Invalid Email Address Passed")
    return email.strip()


def _currency(body: dict[str, Any]) -> str:
    currency = body.get("currency") or _config().currency
    if currency != _config().currency:
        raise PaystackError(400, "Currency not supported by merchant", type_="api_error", code="unsupported_currency")
    return currency


def _transaction_reference(body: dict[str, Any]) -> str:
    reference = body.get("reference")
    if reference in (None, ""):
        return random_token(10)
    if not isinstance(reference, str) or not _TRANSACTION_REFERENCE.match(reference):
        raise PaystackError(400, "Invalid reference: only -, ., = and alphanumeric characters are allowed")
    return reference


def _duplicate_transaction_reference() -> PaystackError:
    return PaystackError(
        400,
        "Duplicate Transaction Reference",
        code="duplicate_reference",
        next_step="Try and create the Transaction or Charge with a new reference",
    )


def _metadata(body: dict[str, Any]) -> Any:
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, (dict, str)):
        raise PaystackError(400, "metadata must be a JSON object or a stringified JSON object")
    return metadata


def _callback_url(body: dict[str, Any]) -> str | None:
    url = body.get("callback_url")
    if url in (None, ""):
        return None
    # Only absolute http(s) URLs: the checkout page redirects the browser there.
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise PaystackError(400, "callback_url must be a fully qualified http(s) URL")
    return url


def _check_channels(body: dict[str, Any]) -> None:
    channels = body.get("channels")
    if channels is None:
        return
    if not isinstance(channels, list) or not all(isinstance(c, str) and c in _CHANNELS for c in channels):
        raise PaystackError(400, f"channels must be a list of: {', '.join(sorted(_CHANNELS))}")


def _public_base() -> str:
    return (_config().public_url or request.url_root).rstrip("/")


@bp.post("/transaction/initialize")
def initialize() -> tuple[Response, int]:
    body = _body()
    email = _email(body)
    amount = _amount(body.get("amount"))
    currency = _currency(body)
    reference = _transaction_reference(body)
    callback_url = _callback_url(body)
    metadata = _metadata(body)
    _check_channels(body)
    store = _store()
    with store.lock:
        if reference in store.transactions:
            raise _duplicate_transaction_reference()
        txn = Transaction(
            id=store.next_id(),
            reference=reference,
            access_code=random_token(15),
            amount=amount,
            currency=currency,
            customer=store.customer_for(email),
            callback_url=callback_url,
            metadata=metadata,
            created_at=now(),
        )
        store.transactions[reference] = txn
    data = {
        "authorization_url": f"{_public_base()}/checkout/{txn.access_code}",
        "access_code": txn.access_code,
        "reference": reference,
    }
    return _ok("Authorization URL created", data)


@bp.get("/transaction/verify/<reference>")
def verify(reference: str) -> tuple[Response, int]:
    store = _store()
    with store.lock:
        txn = store.transactions.get(reference)
        if txn is None:
            raise PaystackError(404, "Transaction reference not found", code="transaction_not_found")
        data = shapes.transaction_data(txn)
    return _ok("Verification successful", data)


@bp.post("/transaction/charge_authorization")
def charge_authorization() -> tuple[Response, int]:
    body = _body()
    authorization_code = _required_text(body, "authorization_code")
    email = _email(body)
    amount = _amount(body.get("amount"))
    currency = _currency(body)
    reference = _transaction_reference(body)
    metadata = _metadata(body)
    store = _store()
    with store.lock:
        authorization = store.authorizations.get(authorization_code)
        if authorization is None:
            raise PaystackError(400, "Invalid Authorization Code")
        if authorization.customer.email.lower() != email.lower():
            raise PaystackError(400, "Email does not match Authorization code. Please confirm.")
        if reference in store.transactions:
            raise _duplicate_transaction_reference()
        created = now()
        txn = Transaction(
            id=store.next_id(),
            reference=reference,
            access_code=random_token(15),
            amount=amount,
            currency=currency,
            customer=authorization.customer,
            callback_url=None,
            metadata=metadata,
            created_at=created,
            status="success",
            paid_at=created,
            authorization=authorization,
        )
        store.transactions[reference] = txn
        data = shapes.transaction_data(txn)
    send_event_in_background(store, _config(), reference, "charge.success", data)
    return _ok("Charge attempted", data)


@bp.post("/refund")
def create_refund() -> tuple[Response, int]:
    body = _body()
    key = body.get("transaction")
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if not isinstance(key, str) or not key:
        raise PaystackError(400, "transaction is required")
    store = _store()
    with store.lock:
        txn = store.transaction_by_reference_or_id(key)
        if txn is None:
            raise PaystackError(404, "Transaction not found", code="transaction_not_found")
        if txn.status == "reversed":
            raise PaystackError(400, "Transaction has been fully reversed")
        if txn.status != "success":
            raise PaystackError(400, "Only successful transactions can be refunded")
        refundable = store.refundable_amount(txn)
        if refundable <= 0:
            raise PaystackError(400, "Transaction has been fully reversed")
        amount = refundable if body.get("amount") in (None, "") else _amount(body.get("amount"))
        if amount > refundable:
            raise PaystackError(400, f"Refund amount cannot be more than the amount left to refund ({refundable})")
        currency = body.get("currency") or txn.currency
        if currency != txn.currency:
            raise PaystackError(400, "Refund currency must be the transaction's currency")
        created = now()
        refund = Refund(
            id=store.next_id(),
            transaction=txn,
            amount=amount,
            currency=currency,
            customer_note=str(body.get("customer_note") or f"Refund for transaction {txn.reference}"),
            merchant_note=str(body.get("merchant_note") or f"Refund for transaction {txn.reference}"),
            created_at=created,
            updated_at=created,
        )
        store.refunds[refund.id] = refund
        data = shapes.refund_data(refund)
    return _ok("Refund has been queued for processing", data)


@bp.get("/refund/<refund_id>")
def fetch_refund(refund_id: str) -> tuple[Response, int]:
    store = _store()
    with store.lock:
        # Any id that is not one of ours, integer or not, is the same 404 (and only after the key check).
        refund = store.refunds.get(int(refund_id)) if _REFUND_ID.fullmatch(refund_id) else None
        if refund is None:
            raise PaystackError(404, "Refund not found", code="refund_not_found")
        data = shapes.refund_fetch_data(refund)
    return _ok("Refund retrieved", data)


@bp.get("/bank")
def list_banks() -> tuple[Response, int]:
    currency = request.args.get("currency")
    country = request.args.get("country")
    nigerian = (currency in (None, "", "NGN")) and (country in (None, "") or country.lower() == "nigeria")
    data = [shapes.bank_data(bank) for bank in banks.BANKS] if nigerian else []
    return _ok("Banks retrieved", data, meta={"next": None, "previous": None, "perPage": 50})


@bp.get("/bank/resolve")
def resolve_account() -> tuple[Response, int]:
    account_number = request.args.get("account_number", "").strip()
    bank_code = request.args.get("bank_code", "").strip()
    if not account_number or not bank_code:
        raise PaystackError(400, "account_number and bank_code are required")
    account_name = banks.resolve_account_name(account_number, bank_code)
    bank = banks.find_bank(bank_code)
    if account_name is None or bank is None:
        raise PaystackError(
            422, "Could not resolve account name. Check parameters or try again.", type_="api_error", code="unknown"
        )
    data = {"account_number": account_number, "account_name": account_name, "bank_id": bank.id}
    return _ok("Account number resolved", data)


@bp.post("/transferrecipient")
def create_recipient() -> tuple[Response, int]:
    body = _body()
    if body.get("type") != "nuban":
        raise PaystackError(400, "The simulator supports only recipients of type nuban")
    name = _required_text(body, "name")
    account_number = _required_text(body, "account_number")
    bank_code = _required_text(body, "bank_code")
    currency = _currency(body)
    metadata = _metadata(body)
    account_name = banks.resolve_account_name(account_number, bank_code)
    bank = banks.find_bank(bank_code)
    if account_name is None or bank is None:
        raise PaystackError(400, "Cannot resolve account")
    store = _store()
    with store.lock:
        # Paystack: "A duplicate account number will lead to the retrieval of the existing record."
        recipient = store.recipient_by_account(account_number, bank_code)
        if recipient is None:
            recipient = Recipient(
                id=store.next_id(),
                recipient_code="RCP_" + random_token(15),
                name=name,
                account_number=account_number,
                account_name=account_name,
                bank_code=bank_code,
                bank_name=bank.name,
                currency=currency,
                description=str(body.get("description") or ""),
                metadata=metadata,
                created_at=now(),
            )
            store.recipients[recipient.recipient_code] = recipient
        data = shapes.recipient_data(recipient)
    return _ok("Transfer recipient created successfully", data, 201)


@bp.post("/transfer")
def initiate_transfer() -> tuple[Response, int]:
    body = _body()
    if body.get("source") != "balance":
        raise PaystackError(400, 'source must be "balance"')
    amount = _amount(body.get("amount"))
    recipient_code = _required_text(body, "recipient")
    currency = _currency(body)
    reference = body.get("reference") or random_token(20)
    if not isinstance(reference, str) or not _TRANSFER_REFERENCE.match(reference):
        raise PaystackError(
            400, "Invalid reference: use 16 or more lowercase letters, digits, - or _ (Paystack's transfer rule)"
        )
    store = _store()
    with store.lock:
        recipient = store.recipients.get(recipient_code)
        if recipient is None:
            raise PaystackError(400, "Recipient specified is invalid")
        if reference in store.transfers:
            raise PaystackError(400, "Duplicate Transfer Reference", code="duplicate_reference")
        created = now()
        transfer = Transfer(
            id=store.next_id(),
            transfer_code="TRF_" + random_token(15),
            reference=reference,
            amount=amount,
            currency=currency,
            reason=str(body.get("reason") or ""),
            recipient=recipient,
            created_at=created,
            updated_at=created,
        )
        store.transfers[reference] = transfer
        data = shapes.transfer_data(transfer)
    return _ok("Transfer has been queued", data)


@bp.get("/transfer/verify/<reference>")
def verify_transfer(reference: str) -> tuple[Response, int]:
    store = _store()
    with store.lock:
        transfer = store.transfers.get(reference)
        if transfer is None:
            raise PaystackError(404, "Transfer not found", code="transfer_not_found")
        data = shapes.transfer_event_data(transfer)
    return _ok("Transfer retrieved", data)
