"""Keyset cursors of the public listing: opaque, URL-safe, and bound to the query they continue.

A cursor holds the sort key and id of the row a page ended (or began) at, the direction, the page number
it leads to, and whether the search had been run again with its typos corrected. A checksum over it and the query's
filters and sort makes a tampered cursor, or one used with other filters, a 422 rather than a wrong page; a
forged one can only name a position in the public listing, so it is not signed with a secret.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Position:
    key: Any  # the sort column's value (or the relevance rank) of the row
    id: uuid.UUID
    backwards: bool  # the page wanted lies before the row (a `prev` link)
    page: int
    fallback: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _checksum(payload: bytes, fingerprint: str) -> str:
    return _b64(hashlib.blake2b(payload + fingerprint.encode(), digest_size=12).digest())


def encode(position: Position, fingerprint: str) -> str:
    key = position.key.isoformat() if isinstance(position.key, datetime) else position.key
    payload = json.dumps([key, str(position.id), position.backwards, position.page, position.fallback],
                         separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_checksum(payload, fingerprint)}"


def decode(token: str, fingerprint: str, sort_key: str) -> Position:
    """The position in `token`; ValueError when it is malformed, altered, or belongs to another query."""
    try:
        encoded, checksum = token.split(".")
        payload = _unb64(encoded)
        if checksum != _checksum(payload, fingerprint):
            raise ValueError("The cursor does not belong to this query (its filters, sort or per_page differ).")
        key, row_id, backwards, page, fallback = json.loads(payload)
        position = Position(_typed(key, sort_key), uuid.UUID(row_id), backwards, page, fallback)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, TypeError) as error:
        raise ValueError("The cursor is malformed.") from error
    if not (isinstance(position.backwards, bool) and isinstance(position.fallback, bool)
            and isinstance(page, int) and 1 <= page <= 10**9):
        raise ValueError("The cursor is malformed.")
    return position


def _typed(value: Any, sort_key: str) -> Any:
    if sort_key == "created_at" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if sort_key == "price" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if sort_key == "name" and isinstance(value, str):
        return value
    if sort_key in ("rating", "relevance") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"not a {sort_key} value")
