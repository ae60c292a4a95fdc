"""Idempotency-Key: the first response to a key is stored and replayed; side effects happen once."""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from flask import Response, current_app, request
from flask_jwt_extended import get_jwt
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (JSON, Delete, Insert, Integer, String, Table, UniqueConstraint, Update, and_, bindparam, delete,
                        insert, select, update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from werkzeug.exceptions import HTTPException

from .db import UTCDateTime, own_transaction
from .errors import ProblemError, validation_error
from .openapi import declare_responses
from .timeutil import utcnow
from .validation import request_body, request_json

HEADER = "Idempotency-Key"
ABANDONED_AFTER = timedelta(seconds=60)
F = TypeVar("F", bound=Callable[..., Any])


class IdempotencyRecordMixin:
    """Columns of the idempotency table; each service maps it onto its own metadata."""

    __tablename__ = "idempotency_keys"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(128), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def _fingerprint() -> str:
    """Of the decoded body, so key order and spacing do not matter. A body that is no JSON is refused here,
    before the key is claimed: a refusal of the body itself is no answer to keep for the key."""
    decoded = request_json()
    raw = request_body()
    canonical = json.dumps(decoded, sort_keys=True, separators=(",", ":")).encode() if raw else raw
    return hashlib.sha256(request.method.encode() + request.path.encode() + b"\n" + canonical).hexdigest()


def _required_key() -> str:
    key = request.headers.get(HEADER)
    if key is None:
        raise validation_error([{"field": HEADER, "message": "This header is required."}],
                               "An Idempotency-Key header is required.")
    if not 1 <= len(key) <= 255:
        raise validation_error([{"field": HEADER, "message": "Must be 1 to 255 characters."}])
    return key


def _replay(record: Any) -> Response:
    response = current_app.response_class(json.dumps(record.response_body), status=record.status_code,
                                          mimetype="application/json" if record.status_code < 400
                                          else "application/problem+json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _run_view(view: Callable[..., Any], args: Any, kwargs: Any) -> Response:
    try:
        return current_app.make_response(view(*args, **kwargs))
    except HTTPException as error:
        return current_app.make_response(current_app.handle_user_exception(error))


def idempotent(db: SQLAlchemy, record_model: type[Any]) -> Callable[[F], F]:
    """Decorate a view that needs an access token; keys are scoped to the caller's `sub`."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key, fingerprint, principal = _required_key(), _fingerprint(), str(get_jwt()["sub"])
            existing = _claim(db, record_model, principal, key, fingerprint)
            if existing is not None:
                return _answer_existing(existing, fingerprint)
            try:
                response = _run_view(view, args, kwargs)
            except Exception:
                _forget(db, record_model, principal, key)
                raise
            _settle(db, record_model, principal, key, response)
            return response

        wrapper._idempotency_key = True  # type: ignore[attr-defined]  # read by openapi.build_spec
        declare_responses(wrapper, 409, 422)  # key reused with another body; key missing
        return wrapper  # type: ignore[return-value]

    return decorator


class _KeyStatements(NamedTuple):
    claim: Insert
    settle: Update
    forget: Delete


@functools.cache
def _statements(table: Table) -> _KeyStatements:
    """Built once per table: SQLAlchemy then skips re-coercing them and re-deriving their cache keys.
    The values come with each execution; `by_` names differ from the columns the SET clause takes."""
    by_key = and_(table.c.principal == bindparam("by_principal"), table.c.key == bindparam("by_key"))
    return _KeyStatements(insert(table), update(table).where(by_key), delete(table).where(by_key))


def _claim(db: SQLAlchemy, model: type[Any], principal: str, key: str, fingerprint: str) -> Any | None:
    """Insert the key as in progress; return the existing record when someone holds it already."""
    # Core statements on the table: the ORM's unit of work costs more than these statements themselves.
    try:
        with own_transaction(db.session):
            db.session.execute(_statements(model.__table__).claim,
                               {"principal": principal, "key": key, "fingerprint": fingerprint, "created_at": utcnow()})
        return None
    except IntegrityError:
        db.session.rollback()
    record = db.session.scalar(select(model).where(model.principal == principal, model.key == key))
    if record is not None and _take_over_abandoned(db, model, record, fingerprint):
        return None
    return record


def _take_over_abandoned(db: SQLAlchemy, model: type[Any], record: Any, fingerprint: str) -> bool:
    """A key left in progress by a crashed process is taken over, by one caller only."""
    if record.status_code is not None or record.fingerprint != fingerprint:
        return False
    if utcnow() - record.created_at < ABANDONED_AFTER:
        return False
    taken = db.session.execute(
        update(model).where(model.id == record.id, model.status_code.is_(None),
                            model.created_at == record.created_at).values(created_at=utcnow()))
    db.session.commit()
    return taken.rowcount == 1


def _answer_existing(record: Any, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise ProblemError(409, "This Idempotency-Key was used with a different request body.")
    if record.status_code is None:
        raise ProblemError(409, "A request with this Idempotency-Key is still being processed.",
                           headers={"Retry-After": "1"})
    return _replay(record)


def _settle(db: SQLAlchemy, model: type[Any], principal: str, key: str, response: Response) -> None:
    db.session.rollback()
    if response.status_code >= 500 or response.status_code == 429:
        # A failure the client may retry: the key is released so the retry runs for real.
        _forget(db, model, principal, key)
        return
    with own_transaction(db.session):
        db.session.execute(_statements(model.__table__).settle,
                           {"by_principal": principal, "by_key": key, "status_code": response.status_code,
                            "response_body": response.get_json(silent=True)})


def _forget(db: SQLAlchemy, model: type[Any], principal: str, key: str) -> None:
    db.session.rollback()
    with own_transaction(db.session):
        db.session.execute(_statements(model.__table__).forget, {"by_principal": principal, "by_key": key})
