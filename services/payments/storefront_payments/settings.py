"""The payments service's environment variables."""
from __future__ import annotations

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from storefront_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "payments"

    # SecretStr keeps the key out of reprs, tracebacks and logs.
    paystack_secret_key: SecretStr = SecretStr("")
    paystack_base_url: str = "https://api.paystack.co"
    # Where the browser lands after checkout: the public /api/v1/payments/paystack/callback.
    paystack_callback_url: str = ""
    paystack_timeout: float = 10.0
    platform_fee_bps: int = Field(default=0, ge=0, le=10_000)
    # Verify says "abandoned" for an unpaid checkout, which is not final; after this long we stop waiting.
    payment_abandon_after_seconds: int = 24 * 3600
    reverify_older_than_seconds: int = 60

    @field_validator("paystack_secret_key")
    @classmethod
    def _production_needs_a_key(cls, key: SecretStr, info: ValidationInfo) -> SecretStr:
        # A field validator: its error shows only this (empty) value, never the other settings.
        if info.data.get("environment") == "production" and not key.get_secret_value():
            raise ValueError("PAYSTACK_SECRET_KEY is required in production")
        return key
