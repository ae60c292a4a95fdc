"""Control API for tests and the local runner: no auth, development only.

Settling a record a second time answers 409 with its current status and sends
nothing (use the replay endpoint to resend a webhook). The one exception is
a successful transfer, which may still be reversed later, as banks do.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from . import shapes
from .config import SimulatorConfig
from .settlement import (
    REFUND_OUTCOMES,
    TRANSACTION_OUTCOMES,
    TRANSFER_OUTCOMES,
    AlreadySettled,
    NotFound,
    Settled,
    settle_refund,
    settle_transaction,
    settle_transfer,
)
from .state import Store
from .webhooks import replay

bp = Blueprint("simulator_control", __name__, url_prefix="/_simulator")


def _store() -> Store:
    return current_app.extensions["paystack_sim.store"]


def _config() -> SimulatorConfig:
    return current_app.extensions["paystack_sim.config"]


def _error(http_status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"message": message, **extra}), http_status


def _outcome(allowed: tuple[str, ...]) -> str | None:
    body = request.get_json(silent=True)
    outcome = body.get("outcome") if isinstance(body, dict) else None
    return outcome if outcome in allowed else None


def _settled(result: Settled) -> tuple[Response, int]:
    return jsonify({"reference": result.reference, "status": result.status, "webhook_status": result.webhook_status}), 200


@bp.post("/transactions/<reference>/complete")
def complete_transaction(reference: str) -> tuple[Response, int]:
    outcome = _outcome(TRANSACTION_OUTCOMES)
    if outcome is None:
        return _error(400, f"outcome must be one of {', '.join(TRANSACTION_OUTCOMES)}")
    store = _store()
    with store.lock:
        txn = store.transactions.get(reference)
    if txn is None:
        return _error(404, "Transaction reference not found")
    try:
        return _settled(settle_transaction(store, _config(), txn, outcome))
    except AlreadySettled as exc:
        return _error(409, "Transaction already settled", status=exc.status)


@bp.post("/transfers/<reference>/complete")
def complete_transfer(reference: str) -> tuple[Response, int]:
    outcome = _outcome(TRANSFER_OUTCOMES)
    if outcome is None:
        return _error(400, f"outcome must be one of {', '.join(TRANSFER_OUTCOMES)}")
    try:
        return _settled(settle_transfer(_store(), _config(), reference, outcome))
    except NotFound:
        return _error(404, "Transfer reference not found")
    except AlreadySettled as exc:
        return _error(409, "Transfer already settled", status=exc.status)


@bp.post("/refunds/<int:refund_id>/complete")
def complete_refund(refund_id: int) -> tuple[Response, int]:
    outcome = _outcome(REFUND_OUTCOMES)
    if outcome is None:
        return _error(400, f"outcome must be one of {', '.join(REFUND_OUTCOMES)}")
    try:
        return _settled(settle_refund(_store(), _config(), refund_id, outcome))
    except NotFound:
        return _error(404, "Refund not found")
    except AlreadySettled as exc:
        return _error(409, "Refund already settled", status=exc.status)


@bp.post("/webhooks/<reference>/replay")
def replay_webhook(reference: str) -> tuple[Response, int]:
    status = replay(_store(), _config(), reference)
    if status is None:
        return _error(404, "No webhook has been sent for this reference")
    return jsonify({"reference": reference, "webhook_status": status}), 200


@bp.get("/transactions")
def list_everything() -> tuple[Response, int]:
    store = _store()
    with store.lock:
        transactions = [
            {
                **shapes.transaction_data(txn),
                "access_code": txn.access_code,
                "callback_url": txn.callback_url,
                "settled": txn.status != "pending",
            }
            for txn in store.transactions.values()
        ]
        body = {
            "transactions": transactions,
            "refunds": [shapes.refund_data(refund) for refund in store.refunds.values()],
            "recipients": [shapes.recipient_data(r) for r in store.recipients.values()],
            "transfers": [shapes.transfer_event_data(t) for t in store.transfers.values()],
            "webhooks": [
                {
                    "event": d.event,
                    "reference": d.reference,
                    "status_code": d.status_code,
                    "error": d.error,
                    "at": shapes.iso(d.at),
                }
                for d in store.deliveries
            ],
        }
    return jsonify(body), 200


@bp.post("/reset")
def reset() -> tuple[Response, int]:
    _store().reset()
    return jsonify({"message": "Simulator state cleared"}), 200
