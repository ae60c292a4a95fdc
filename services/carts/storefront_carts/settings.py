"""The carts service's environment variables (on top of CommonSettings)."""
from __future__ import annotations

from pydantic import Field

from storefront_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "carts"
    database_url: str = "sqlite:///carts.db"
    cart_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60,
                                  description="A cart whose lines have not changed for this long expires")
    cart_max_lines: int = Field(default=100, ge=1, le=100,
                                description="Distinct products one cart may hold (one batch lookup covers them)")
    purge_batch_size: int = Field(default=1000, ge=1,
                                  description="Expired carts deleted per transaction by purge-expired-carts")

