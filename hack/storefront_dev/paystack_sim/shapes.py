"""Records turned into the JSON shapes Paystack returns and sends.

Field names follow paystack-openapi.yaml (VerifyResponse, RefundCreateResponse,
RefundFetchResponse, TransferRecipientCreateResponse, TransferCreateResponse) and Paystack's
documented webhook payloads. Call these while holding `store.lock`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .banks import Bank
from .state import Authorization, Customer, Recipient, Refund, Transaction, Transfer

DOMAIN = "test"
INTEGRATION_ID = 100032

# Paystack's local card pricing: 1.5%, plus NGN 100 from NGN 2,500 up,
# capped at NGN 2,000 (all in kobo).
_FEE_RATE = 0.015
_FEE_FLAT = 10000
_FEE_FLAT_THRESHOLD = 250000
_FEE_CAP = 200000


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def fees_for(amount: int) -> int:
    fee = round(amount * _FEE_RATE)
    if amount >= _FEE_FLAT_THRESHOLD:
        fee += _FEE_FLAT
    return min(fee, _FEE_CAP)


def visible_status(txn: Transaction) -> str:
    # Paystack reports a transaction the customer has not completed yet as
    # "abandoned" (with gateway_response "The transaction was not completed"),
    # so "abandoned" is not final until the simulator settles it.
    return "abandoned" if txn.status == "pending" else txn.status


def gateway_response(txn: Transaction) -> str:
    return {
        "pending": "The transaction was not completed",
        "abandoned": "The transaction was not completed",
        "success": "Successful",
        "reversed": "Successful",
        "failed": "Declined",
    }[txn.status]


def customer_data(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "first_name": None,
        "last_name": None,
        "email": customer.email,
        "customer_code": customer.customer_code,
        "phone": None,
        "metadata": None,
        "risk_action": "default",
        "international_format_phone": None,
    }


def authorization_data(authorization: Authorization | None) -> dict[str, Any]:
    if authorization is None:
        return {}
    # Paystack's test card 4084 0840 8408 4081.
    return {
        "authorization_code": authorization.authorization_code,
        "bin": "408408",
        "last4": "4081",
        "exp_month": "12",
        "exp_year": "2030",
        "channel": "card",
        "card_type": "visa ",
        "bank": "TEST BANK",
        "country_code": "NG",
        "brand": "visa",
        "reusable": True,
        "signature": authorization.signature,
        "account_name": None,
        "receiver_bank_account_number": None,
        "receiver_bank": None,
    }


def transaction_data(txn: Transaction) -> dict[str, Any]:
    """The `data` of GET /transaction/verify and of the charge.success event."""
    paid = txn.status in ("success", "reversed")
    return {
        "id": txn.id,
        "domain": DOMAIN,
        "status": visible_status(txn),
        "reference": txn.reference,
        "receipt_number": None,
        "amount": txn.amount,
        "message": None,
        "gateway_response": gateway_response(txn),
        "paid_at": iso(txn.paid_at),
        "created_at": iso(txn.created_at),
        "channel": txn.channel,
        "currency": txn.currency,
        "ip_address": "127.0.0.1",
        "metadata": "" if txn.metadata is None else txn.metadata,
        "log": None,
        "fees": fees_for(txn.amount) if paid else None,
        "fees_split": None,
        "authorization": authorization_data(txn.authorization),
        "customer": customer_data(txn.customer),
        "plan": None,
        "split": {},
        "order_id": None,
        "paidAt": iso(txn.paid_at),
        "createdAt": iso(txn.created_at),
        "requested_amount": txn.amount,
        "pos_transaction_data": None,
        "source": None,
        "fees_breakdown": None,
        "connect": None,
        "transaction_date": iso(txn.created_at),
        "plan_object": {},
        "subaccount": {},
    }


def refund_data(refund: Refund) -> dict[str, Any]:
    """The `data` of POST /refund."""
    txn = refund.transaction
    return {
        "transaction": {
            "id": txn.id,
            "domain": DOMAIN,
            "reference": txn.reference,
            "amount": txn.amount,
            "paid_at": iso(txn.paid_at),
            "channel": txn.channel,
            "currency": txn.currency,
            "authorization": {"exp_month": None, "exp_year": None, "account_name": None},
            "customer": {"international_format_phone": None},
            "plan": {},
            "subaccount": {"currency": None},
            "split": {},
            "order_id": None,
            "paidAt": iso(txn.paid_at),
            "pos_transaction_data": None,
            "source": None,
            "fees_breakdown": None,
        },
        "integration": INTEGRATION_ID,
        "deducted_amount": 0,
        "channel": None,
        "merchant_note": refund.merchant_note,
        "customer_note": refund.customer_note,
        "status": refund.status,
        "refunded_by": "simulator@storefront.test",
        "expected_at": iso(refund.created_at),
        "currency": refund.currency,
        "domain": DOMAIN,
        "amount": refund.amount,
        "fully_deducted": False,
        "id": refund.id,
        "createdAt": iso(refund.created_at),
        "updatedAt": iso(refund.updated_at),
    }


def refund_fetch_data(refund: Refund) -> dict[str, Any]:
    """The `data` of GET /refund/{id} (RefundFetchResponse)."""
    txn = refund.transaction
    processed = refund.status == "processed"
    return {
        "integration": INTEGRATION_ID,
        "transaction": txn.id,
        "dispute": None,
        "settlement": None,
        "id": refund.id,
        "domain": DOMAIN,
        "currency": refund.currency,
        "amount": refund.amount,
        "status": refund.status,
        "refunded_at": iso(refund.updated_at) if processed else None,
        "refunded_by": "simulator@storefront.test",
        "customer_note": refund.customer_note,
        "merchant_note": refund.merchant_note,
        "deducted_amount": refund.amount if processed else 0,
        "fully_deducted": 1 if processed else 0,
        "createdAt": iso(refund.created_at),
        "bank_reference": None,
        "transaction_reference": txn.reference,
        "reason": refund.merchant_note,
        "customer": customer_data(txn.customer),
        "refund_type": "full" if refund.amount == txn.amount else "partial",
        "transaction_amount": txn.amount,
        "initiated_by": "api",
        "refund_channel": txn.channel,
        "session_id": None,
        "collect_account_number": False,
    }


def refund_event_data(refund: Refund) -> dict[str, Any]:
    """The `data` of refund.processed / refund.failed webhooks."""
    customer = refund.transaction.customer
    return {
        "id": refund.id,
        "status": refund.status,
        "transaction_reference": refund.transaction.reference,
        "refund_reference": None,
        "amount": refund.amount,
        "currency": refund.currency,
        "processor": "simulator",
        "customer": {"first_name": None, "last_name": None, "email": customer.email},
        "integration": INTEGRATION_ID,
        "domain": DOMAIN,
    }


def recipient_data(recipient: Recipient) -> dict[str, Any]:
    """The `data` of POST /transferrecipient."""
    return {
        "active": True,
        "createdAt": iso(recipient.created_at),
        "currency": recipient.currency,
        "description": recipient.description,
        "domain": DOMAIN,
        "email": None,
        "id": recipient.id,
        "integration": INTEGRATION_ID,
        "metadata": recipient.metadata,
        "name": recipient.name,
        "recipient_code": recipient.recipient_code,
        "type": "nuban",
        "updatedAt": iso(recipient.created_at),
        "is_deleted": False,
        "isDeleted": False,
        "details": {
            "authorization_code": None,
            "account_number": recipient.account_number,
            "account_name": recipient.account_name,
            "bank_code": recipient.bank_code,
            "bank_name": recipient.bank_name,
        },
    }


def transfer_data(transfer: Transfer) -> dict[str, Any]:
    """The `data` of POST /transfer (recipient as its id)."""
    return {
        "transfersessionid": [],
        "transfertrials": [],
        "domain": DOMAIN,
        "amount": transfer.amount,
        "currency": transfer.currency,
        "reference": transfer.reference,
        "source": "balance",
        "source_details": None,
        "reason": transfer.reason,
        "status": transfer.status,
        "failures": None,
        "transfer_code": transfer.transfer_code,
        "titan_code": None,
        "transferred_at": iso(transfer.transferred_at),
        "id": transfer.id,
        "integration": INTEGRATION_ID,
        "request": transfer.id,
        "recipient": transfer.recipient.id,
        "createdAt": iso(transfer.created_at),
        "updatedAt": iso(transfer.updated_at),
    }


def transfer_event_data(transfer: Transfer) -> dict[str, Any]:
    """The `data` of transfer.* webhooks and GET /transfer/verify (recipient expanded)."""
    data = transfer_data(transfer)
    data["recipient"] = recipient_data(transfer.recipient)
    data["gateway_response"] = None
    data["session"] = {"provider": None, "id": None}
    data["fee_charged"] = 0
    return data


def bank_data(bank: Bank) -> dict[str, Any]:
    return {
        "name": bank.name,
        "slug": bank.slug,
        "code": bank.code,
        "longcode": bank.longcode,
        "gateway": None,
        "pay_with_bank": False,
        "supports_transfer": True,
        "available_for_direct_debit": False,
        "active": True,
        "is_deleted": False,
        "country": "Nigeria",
        "currency": "NGN",
        "type": "nuban",
        "id": bank.id,
        "createdAt": "2016-07-14T10:04:29.000Z",
        "updatedAt": "2024-01-01T00:00:00.000Z",
    }
