"""Every SQL statement of the web service: its sessions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from .dependencies import db
from .models import WebSession


def add_session(row: WebSession) -> None:
    db.session.add(row)
    db.session.commit()


def find_session(id_hash: str, *, for_update: bool = False) -> WebSession | None:
    statement = select(WebSession).where(WebSession.id_hash == id_hash)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(statement).first()


def delete_session(id_hash: str) -> None:
    db.session.execute(delete(WebSession).where(WebSession.id_hash == id_hash))
    db.session.commit()


def delete_expired_sessions(now: datetime) -> int:
    deleted = db.session.execute(delete(WebSession).where(WebSession.expires_at <= now)).rowcount
    db.session.commit()
    return int(deleted or 0)


def commit() -> None:
    db.session.commit()


def rollback() -> None:
    db.session.rollback()
