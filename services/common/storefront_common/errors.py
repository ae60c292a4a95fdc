"""RFC 9457 problem documents for every error a service returns."""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

PROBLEM_MIME = "application/problem+json"
logger = logging.getLogger("storefront.errors")


class ProblemError(HTTPException):
    """An error that renders as a problem document. Raise it anywhere in a request."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.title = title or HTTPStatus(status).phrase
        self.type_ = type_
        self.errors = errors
        self.extra_headers = headers or {}
        self.extra = extra or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type_, "title": self.title, "status": self.code}
        if self.description:
            body["detail"] = self.description
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        return problem_response(self.to_dict(), self.code, self.extra_headers)


def problem_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_error(errors: list[dict[str, str]], detail: str = "The request failed validation.") -> ProblemError:
    return ProblemError(422, detail, errors=errors)


def not_found(what: str = "resource") -> ProblemError:
    return ProblemError(404, f"The {what} was not found.")


def conflict(detail: str, **extra: Any) -> ProblemError:
    return ProblemError(409, detail, extra=extra)


def unavailable(detail: str, retry_after: int = 5) -> ProblemError:
    return ProblemError(503, detail, headers={"Retry-After": str(retry_after)})


def http_exception_response(error: HTTPException) -> Response:
    if isinstance(error, ProblemError):
        return error.get_response()
    status = error.code or 500
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if error.description and status < 500:
        body["detail"] = error.description
    headers = {}
    if status == 405 and error.get_headers():
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    return problem_response(body, status, headers)


def _handle_unexpected(error: Exception) -> Response:
    # The trace goes to the log (with the request id); the client gets nothing that could leak.
    logger.exception("unhandled error", exc_info=error)
    body = {"type": "about:blank", "title": "Internal Server Error", "status": 500,
            "detail": "An unexpected error occurred."}
    return problem_response(body, 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_exception_response)
    app.register_error_handler(Exception, _handle_unexpected)
