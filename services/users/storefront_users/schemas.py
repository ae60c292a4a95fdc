"""Request and response models of the users API (the OpenAPI document is built from them)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from storefront_common.pagination import PageQuery
from storefront_common.validation import Body

from .passwords import MAX_LENGTH, MIN_LENGTH

# Text that is stored or looked up excludes control characters (PostgreSQL refuses NUL in text).
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]+$"
SEARCH_TEXT = r"^[^\x00-\x1f\x7f]*$"
# No characters that would make the address mean something else inside a mail header.
EMAIL_CHARACTER = r"[^@\s\x00-\x1f\x7f,;:<>()\[\]\\\"]"
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=rf"^{EMAIL_CHARACTER}{{1,64}}@{EMAIL_CHARACTER}+\.{EMAIL_CHARACTER}+$")]
Password = Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
# Any length up to the maximum: a login never teaches the caller the password policy.
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PLAIN_TEXT)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()-]{3,30}$")]
BusinessName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                                pattern=PLAIN_TEXT)]
Role = Literal["customer", "vendor", "admin"]
OneTimeTokenText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class RegisterIn(Body):
    email: Email
    password: Password
    first_name: Name
    last_name: Name
    phone: Phone | None = None
    role: Literal["customer", "vendor"] = "customer"
    business_name: BusinessName | None = Field(default=None, description="required for vendors, only for vendors")


class LoginIn(Body):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254, pattern=PLAIN_TEXT)]
    password: GivenPassword


class VerifyEmailIn(Body):
    token: OneTimeTokenText


class PasswordResetIn(Body):
    email: Email


class PasswordResetConfirmIn(Body):
    token: OneTimeTokenText
    new_password: Password


class PasswordChangeIn(Body):
    current_password: GivenPassword
    new_password: Password


class ProfilePatchIn(Body):
    """Only the fields sent are changed; first and last name cannot be cleared."""

    first_name: Name = None  # type: ignore[assignment]
    last_name: Name = None  # type: ignore[assignment]
    phone: Phone | None = None
    business_name: BusinessName | None = Field(default=None, description="vendors only; cannot be cleared")


class AdminUserPatchIn(Body):
    roles: list[Role] = Field(default=None, min_length=1, max_length=3)  # type: ignore[assignment]
    is_active: bool = None  # type: ignore[assignment]

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[str]) -> list[str]:
        if len(set(roles)) != len(roles):
            raise ValueError("roles must not repeat")
        return roles


class UserListQuery(PageQuery):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=SEARCH_TEXT)] | None = Field(
        default=None, description="matches email, names and business name (case-insensitive)")
    role: Role | None = None


class ServiceTokenIn(Body):
    grant_type: Literal["client_credentials"]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class UserOut(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str
    phone: str | None
    roles: list[Role]
    business_name: str | None
    email_verified: bool
    created_at: str


class AdminUserOut(UserOut):
    is_active: bool


class UserPageOut(BaseModel):
    items: list[AdminUserOut]
    page: int
    per_page: int
    total: int
    pages: int


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class ServiceTokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class JwkOut(BaseModel):
    kty: Literal["RSA"]
    kid: str
    use: Literal["sig"]
    alg: Literal["RS256"]
    n: str
    e: str


class JwksOut(BaseModel):
    keys: list[JwkOut]


