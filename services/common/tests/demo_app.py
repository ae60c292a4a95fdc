"""A tiny service built only from storefront_common, to test the shared pieces through real HTTP."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from pydantic import Field
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from storefront_common.app import create_service_app
from storefront_common.auth import auth_required, current_user_id
from storefront_common.db import make_db, uuid_pk
from storefront_common.dependencies import Dependencies, Overrides
from storefront_common.errors import ProblemError
from storefront_common.idempotency import IdempotencyRecordMixin, idempotent
from storefront_common.openapi import operation
from storefront_common.pagination import PageQuery, paginate
from storefront_common.settings import CommonSettings
from storefront_common.validation import Body

db = make_db()


class Note(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notes"
    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    text: Mapped[str] = mapped_column(String(200), nullable=False)


class IdempotencyRecord(IdempotencyRecordMixin, db.Model):  # type: ignore[name-defined,misc]
    pass


class NoteIn(Body):
    text: str = Field(min_length=1, max_length=200)
    copies: int = Field(default=1, ge=1, le=5)


blueprint = Blueprint("notes", __name__, url_prefix="/api/v1/notes")


def _note(note: Note) -> dict[str, Any]:
    return {"id": str(note.id), "text": note.text}


@blueprint.get("")
@operation("List notes", query=PageQuery)
def list_notes(query: PageQuery) -> dict[str, Any]:
    return paginate(db.session, select(Note).order_by(Note.text), query, _note)


@blueprint.post("")
@auth_required("customer", "admin")
@idempotent(db, IdempotencyRecord)
@operation("Create notes", body=NoteIn, status=201, errors=(409,))
def create_note(body: NoteIn) -> tuple[dict[str, Any], int]:
    if body.text == "conflict":
        raise ProblemError(409, "That text is taken.")
    if body.text == "explode":
        raise RuntimeError("secret=hunter2 SELECT * FROM notes")
    notes = [Note(owner_id=current_user_id(), text=body.text) for _ in range(body.copies)]
    db.session.add_all(notes)
    db.session.commit()
    return {"created": [_note(note) for note in notes]}, 201


@blueprint.get("/<uuid:note_id>")
@auth_required()
@operation("Read a note")
def read_note(note_id: uuid.UUID) -> dict[str, Any]:
    note = db.session.get(Note, note_id)
    if note is None or note.owner_id != current_user_id():
        raise ProblemError(404, "The note was not found.")
    return _note(note)


@blueprint.get("/boom")
def boom() -> None:
    raise RuntimeError("password=hunter2 at /srv/secret.py line 3")


def create_app(settings: CommonSettings, **overrides: Any) -> Flask:
    deps = Dependencies(**Overrides(Dependencies, settings, db, overrides).common())
    # No migrations (db.create_all() in the tests): a directory without revisions.
    return create_service_app(deps, versions_dir=Path(__file__).parent / "no-migrations", blueprints=[blueprint],
                              title="Demo API")
