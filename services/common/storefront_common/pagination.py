"""The contract's list envelope: {items, page, per_page, total, pages}."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .validation import Query


class PageQuery(Query):
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=20, ge=1, le=100)


def envelope(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": math.ceil(total / per_page) if total else 0}


def paginate(session: Session, statement: Select[Any], query: PageQuery,
             serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = session.scalars(statement.limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    return envelope([serialize(row) for row in rows], query.page, query.per_page, total)
