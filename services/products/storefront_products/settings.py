"""The products service's environment variables (on top of CommonSettings)."""
from __future__ import annotations

from pydantic import Field

from storefront_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "products"
    database_url: str = "sqlite:///products.db"
    reservation_max_ttl_seconds: int = Field(default=86_400, ge=1,
                                             description="Longest TTL a reservation may ask for")
    expire_batch_size: int = Field(default=500, ge=1,
                                   description="Expired reservations handled per transaction by the CLI job")
    catalog_cache_seconds: float = Field(default=1.0, ge=0, le=60,
                                         description="How long a worker reuses a public listing page; 0 turns it off")
    catalog_exact_total_limit: int = Field(default=10_000, ge=1,
                                           description="Listing totals are counted exactly up to this many "
                                                       "matches, estimated above it")
    catalog_estimate_seconds: float = Field(default=60, ge=0, le=3600,
                                            description="How long a worker reuses an estimated listing total")
