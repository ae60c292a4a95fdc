"""Calls between services: timeouts, retries for idempotent calls only, request ids, service tokens.

Service-to-service calls go through urllib3 directly rather than `requests`: a checkout makes about
ten of them, and `requests`' per-call layers (proxy and .netrc lookups from the environment, cookie
jars, hooks) cost about as much CPU again as the HTTP exchange itself and buy nothing between pods.
"""
from __future__ import annotations

import json as jsonlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from urllib3.exceptions import HTTPError

from .errors import ProblemError
from .logging_setup import request_id_var
from .settings import CommonSettings

logger = logging.getLogger("storefront.client")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


class DependencyUnavailable(ProblemError):
    """A service we depend on is down or timing out: the caller answers 503 with Retry-After."""

    def __init__(self, dependency: str) -> None:
        super().__init__(503, f"The {dependency} service is unavailable. Try again shortly.",
                         headers={"Retry-After": "5"})
        self.dependency = dependency


class ServiceTokenProvider:
    """Client-credentials tokens from the users service, cached until shortly before they expire."""

    def __init__(self, users_url: str, client_id: str, client_secret: str, timeout: float = 5.0) -> None:
        self.token_url = f"{users_url.rstrip('/')}/internal/auth/token"
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> None:
        body = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret}
        try:
            response = requests.post(self.token_url, json=body, timeout=self.timeout,
                                     headers=_request_id_header())
        except requests.RequestException:
            raise DependencyUnavailable("users") from None
        if response.status_code != 200:
            logger.error("service token refused", extra={"status": response.status_code})
            raise DependencyUnavailable("users")
        payload = response.json()
        self._token = payload["access_token"]
        self._expires_at = time.monotonic() + max(int(payload.get("expires_in", 60)) - 30, 5)


def _request_id_header() -> dict[str, str]:
    request_id = request_id_var.get()
    return {"X-Request-ID": request_id} if request_id else {}


@dataclass(frozen=True)
class ServiceResponse:
    """What a downstream service answered (the subset of `requests.Response` callers use)."""

    status_code: int
    content: bytes
    headers: urllib3.HTTPHeaderDict

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class ServiceClient:
    """One downstream service. Non-idempotent calls are sent once unless the caller says they are keyed."""

    def __init__(self, name: str, base_url: str, settings: CommonSettings,
                 tokens: ServiceTokenProvider | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.retries = settings.http_retries
        self.backoff = settings.http_backoff_seconds
        self.tokens = tokens
        self.base_path = urlsplit(self.base_url).path
        # Retries are ours (above): urllib3's own would resend POSTs that are not keyed.
        self.pool = urllib3.connectionpool.connection_from_url(
            self.base_url, maxsize=32, block=False, retries=False,
            timeout=urllib3.Timeout(connect=settings.http_connect_timeout, read=settings.http_read_timeout))

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                bearer: str | None = None, idempotent: bool | None = None) -> ServiceResponse:
        """Send a request; `bearer` forwards a user's token, otherwise a service token is used.

        `idempotent=True` marks a POST that is keyed (e.g. by order id), so retrying it is safe.
        """
        method = method.upper()
        retryable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = self.retries + 1 if retryable else 1
        refreshed_token = False
        attempt = 0
        while True:
            attempt += 1
            response = self._send(method, path, json, params, bearer, last=attempt >= attempts)
            if response is None or response.status_code in RETRY_STATUSES and attempt < attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code == 401 and bearer is None and self.tokens and not refreshed_token:
                # The users service may have rotated its key: one fresh token, then give up.
                self.tokens.invalidate()
                refreshed_token = True
                continue
            if response.status_code >= 500:
                logger.warning("dependency error", extra={"dependency": self.name,
                                                           "status": response.status_code})
                raise DependencyUnavailable(self.name)
            return response

    def _send(self, method: str, path: str, json: Any, params: dict[str, Any] | None,
              bearer: str | None, last: bool) -> ServiceResponse | None:
        headers = _request_id_header()
        token = bearer or (self.tokens.token() if self.tokens else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = None
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_path + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        try:
            answer = self.pool.urlopen(method, url, body=body, headers=headers, redirect=False,
                                       preload_content=True)
        except HTTPError as error:
            logger.warning("dependency unreachable", extra={"dependency": self.name,
                                                             "error": type(error).__name__})
            if last:
                raise DependencyUnavailable(self.name) from None
            return None
        return ServiceResponse(answer.status, answer.data, answer.headers)

    def get(self, path: str, **kwargs: Any) -> ServiceResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ServiceResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> ServiceResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ServiceResponse:
        return self.request("DELETE", path, **kwargs)
