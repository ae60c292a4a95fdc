"""Configuration from environment variables: one settings object per service."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .currency import Currency

DEFAULT_WEB_THREADS = 4
# The largest request body a service (MAX_CONTENT_LENGTH) and the local gateway take: 413 above it.
MAX_BODY_BYTES = 1024 * 1024


class CommonSettings(BaseSettings):
    """Settings every service reads. Services subclass it and add their own fields."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str = "storefront"
    environment: str = Field(default="local", description="local | production")
    database_url: str = "sqlite:///storefront.db"
    auto_migrate: bool = False
    # `flask migrate` waits this long for the database to accept connections (a server still starting).
    migrate_wait_seconds: float = Field(default=120.0, ge=0)

    # The shop's settlement currency (STOREFRONT_CURRENCY): the one currency of every price, cart, order and
    # payment (storefront_common.currency).
    storefront_currency: Currency = Field(default="NGN", description="ISO 4217 code the shop sells and settles in")

    jwt_issuer: str = "http://localhost:8080"
    jwt_audience: str = "storefront"
    jwks_url: str = ""
    jwks_cache_seconds: int = 300

    users_url: str = "http://127.0.0.1:8081"
    products_url: str = "http://127.0.0.1:8082"
    carts_url: str = "http://127.0.0.1:8083"
    orders_url: str = "http://127.0.0.1:8084"
    payments_url: str = "http://127.0.0.1:8085"

    service_client_id: str = ""
    service_client_secret: str = ""

    http_connect_timeout: float = 2.0
    http_read_timeout: float = 5.0
    http_retries: int = 2
    http_backoff_seconds: float = 0.1

    log_level: str = "INFO"
    log_format: str = "json"
    # Read by storefront_common.serve too; each database pool keeps this many connections.
    web_threads: int = Field(default=DEFAULT_WEB_THREADS, ge=1, description="server threads per worker process")

    @property
    def effective_jwks_url(self) -> str:
        return self.jwks_url or f"{self.users_url.rstrip('/')}/.well-known/jwks.json"

    @property
    def client_id(self) -> str:
        return self.service_client_id or self.service_name

    @property
    def is_production(self) -> bool:
        return self.environment == "production"
