"""The public REST API as the pages reach it: one client per service, at its public /api/v1 routes only,
with the user's own access token (never a service token). A refusal (4xx) becomes an ApiProblem the page
shows; a service that is down raises storefront_common's DependencyUnavailable (the 503 page)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from storefront_common.client import ServiceClient, ServiceResponse, malformed_answer

from .settings import Settings

SERVICES = ("users", "products", "carts", "orders", "payments")


@dataclass
class ApiProblem(Exception):
    """A problem+json the API answered: what the page tells the person, the field messages beside the fields."""

    status: int
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)
    service: str = ""

    @property
    def field_errors(self) -> dict[str, str]:
        """Field name -> message; a nested field (`shipping_address.city`) also under its last part."""
        found: dict[str, str] = {}
        for error in self.errors:
            name, message = str(error.get("field", "")), str(error.get("message", ""))
            if name:
                found.setdefault(name, message)
                found.setdefault(name.rsplit(".", 1)[-1], message)
        return found

    @property
    def message(self) -> str:
        """The sentence above the form: the detail, unless it only says that fields failed validation."""
        return self.detail


def problem_of(service: str, response: ServiceResponse) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    detail = body.get("detail") if isinstance(body.get("detail"), str) and body.get("detail") else \
        body.get("title") if isinstance(body.get("title"), str) else f"The request was refused ({response.status_code})."
    return ApiProblem(response.status_code, detail,
                      [item for item in errors if isinstance(item, dict)], service)


class PublicApi:
    def __init__(self, settings: Settings) -> None:
        self.clients = {name: ServiceClient(name, getattr(settings, f"{name}_url"), settings, tokens=None)
                        for name in SERVICES}
        self.categories_cache_seconds = settings.categories_cache_seconds
        self._categories: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self._lock = threading.Lock()

    def categories(self) -> list[dict[str, Any]]:
        """The shop's categories, kept CATEGORIES_CACHE_SECONDS: every shop window page lists them, and they
        change seldom (the consoles ask the API itself)."""
        with self._lock:
            expires, items = self._categories
        if expires > time.monotonic():
            return items
        items = self.call("products", "GET", "/api/v1/categories")["items"]
        with self._lock:
            self._categories = (time.monotonic() + self.categories_cache_seconds, items)
        return items

    def call(self, service: str, method: str, path: str, *, token: str | None = None, json: Any = None,
             params: dict[str, Any] | None = None, idempotency_key: str | None = None) -> Any:
        """The decoded JSON answer (None for an empty one); raises ApiProblem for a 4xx."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self.clients[service].request(method, path, json=json, params=params, headers=headers,
                                                 idempotent=True if idempotency_key else None,
                                                 bearer=token)
        if response.status_code >= 400:
            raise problem_of(service, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise malformed_answer(service, response) from None
