"""Tables of the users service: accounts, their roles, refresh tokens, one-time tokens, login failures."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront_common.db import UTCDateTime, created_at_column, updated_at_column, uuid_pk

from .dependencies import db

ROLES = ("customer", "vendor", "admin")
SELF_REGISTRABLE_ROLES = ("customer", "vendor")
VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    # The lower-cased email, unique: concurrent registrations of "A@x" and "a@x" cannot both win.
    email_normalized: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    business_name: Mapped[str | None] = mapped_column(String(200))
    email_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role")

    @property
    def roles(self) -> list[str]:
        return sorted(row.role for row in self.role_rows)

    def set_roles(self, roles: list[str]) -> None:
        wanted = set(roles)
        self.role_rows = [row for row in self.role_rows if row.role in wanted]
        present = {row.role for row in self.role_rows}
        self.role_rows.extend(UserRole(role=role) for role in sorted(wanted - present))


class UserRole(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class RefreshToken(db.Model):  # type: ignore[name-defined,misc]
    """One issued refresh token; a family is one login session and all the tokens rotated from it."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    issued_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OneTimeToken(db.Model):  # type: ignore[name-defined,misc]
    """Email verification and password reset tokens; only the SHA-256 of the token is stored."""

    __tablename__ = "one_time_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):  # type: ignore[name-defined,misc]
    """A failed login (or failed current-password check), kept for the throttling window."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_failed_at", "email_normalized", "failed_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    email_normalized: Mapped[str] = mapped_column(String(254), nullable=False)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
