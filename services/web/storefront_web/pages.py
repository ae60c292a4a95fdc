"""What the pages share: a form's state (values typed, the API's messages by field) and safe redirects."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request

from .api import ApiProblem


@dataclass
class FormState:
    """A form as it is shown again: what was typed and what the API said about it."""

    values: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def posted(cls) -> "FormState":
        return cls({key: value for key, value in request.form.items() if key != "csrf_token"})

    def refused(self, problem: ApiProblem, *, fields: dict[str, str] | None = None) -> "FormState":
        """`fields`: the API's field name -> the form's, where they differ."""
        self.message = problem.message
        for name, message in problem.field_errors.items():
            self.errors.setdefault((fields or {}).get(name, name), message)
        return self

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: `next=https://evil.example` or `//evil.example` would be an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def positive_int(text: str | None, default: int = 1) -> int:
    try:
        number = int(text or "")
    except ValueError:
        return default
    return number if number >= 1 else default
