"""Environment variables of the orders service (on top of CommonSettings)."""
from __future__ import annotations

from pydantic import Field

from storefront_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "orders"
    database_url: str = "sqlite:///orders.db"

    payment_timeout_seconds: int = Field(default=1800, ge=60,
                                         description="A pending order unpaid for this long is cancelled")
    reservation_margin_seconds: int = Field(
        default=600, ge=0,
        description="Reservations outlive PAYMENT_TIMEOUT by this much, so stock of an order that is "
                    "still payable never returns to the shelf before the expiry job cancels the order")

    @property
    def reservation_ttl_seconds(self) -> int:
        return self.payment_timeout_seconds + self.reservation_margin_seconds
