"""The web service's environment variables (on top of CommonSettings)."""
from __future__ import annotations

import hashlib
import hmac

from pydantic import Field

from storefront_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "web"
    database_url: str = "sqlite:///web.db"
    # Signs the session cookie (it carries the session id and the form tokens). Empty: a key derived from
    # SERVICE_CLIENT_SECRET, the secret the operator (or the local runner) provisions for every component and
    # which web uses for nothing else (it is no service client: the users service issues it no token).
    session_secret_key: str = Field(default="", description="Key that signs the session cookie")
    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=300,
                                     description="A session ends this long after its login (its tokens are deleted)")
    # Refresh this long before the access token expires, so a call started just before never meets a 401.
    token_refresh_margin_seconds: int = Field(default=30, ge=0)
    # Where a payment's checkout page may live: the form that starts a payment is redirected there, and the
    # Content-Security-Policy's form-action must allow it (the local simulator is on the shop's own origin).
    payment_page_origins: str = Field(default="https://checkout.paystack.com",
                                      description="Space-separated origins of Paystack's checkout pages")
    catalog_page_size: int = Field(default=24, ge=1, le=100)
    categories_cache_seconds: float = Field(default=10.0, ge=0,
                                            description="How long the shop window keeps the category list")
    page_cache_seconds: float = Field(default=1.0, ge=0,
                                      description="How long the shop window's pages are kept for visitors not "
                                                  "signed in (0: never)")

    @property
    def cookie_signing_key(self) -> str:
        if self.session_secret_key:
            return self.session_secret_key
        if self.service_client_secret:
            return hmac.new(self.service_client_secret.encode(), b"storefront-web session cookie",
                            hashlib.sha256).hexdigest()
        return ""
