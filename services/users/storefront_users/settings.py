"""The users service's environment variables (on top of the ones every service reads)."""
from __future__ import annotations

from pydantic import Field

from storefront_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "users"

    jwt_private_key: str = Field(default="", description="PEM of the RSA signing key, or a path to a PEM file")
    jwt_previous_public_keys: str = Field(
        default="", description="JWKS JSON document (inline, or a path to a file) of keys still accepted")
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=2_592_000, ge=60)
    data_dir: str = ".data"

    require_verified_email: bool = False
    verification_token_ttl_seconds: int = 48 * 3600
    reset_token_ttl_seconds: int = 3600
    login_max_failures: int = 5
    login_failure_window_seconds: int = 15 * 60

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Storefront <no-reply@storefront.local>"
    public_url: str = "http://localhost:8080"

    service_clients: str = Field(default="", description="comma-separated client_id:sha256hex(secret)")

    storefront_admin_email: str = ""
    storefront_admin_password: str = ""
