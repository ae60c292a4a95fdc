"""Tables of the carts service: a cart per user, its lines, and the paid orders taken out of carts."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storefront_common.db import UTCDateTime, created_at_column, uuid_pk

from .dependencies import db

MAX_LINE_QUANTITY = 1000


class Cart(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "carts"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    # Set only when the lines change (never by a read): CART_TTL counts from here; indexed for the purge job.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class CartItem(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "cart_items"
    __table_args__ = (
        CheckConstraint(f"quantity >= 1 AND quantity <= {MAX_LINE_QUANTITY}", name="quantity_in_range"),
    )

    # The composite key is the one-line-per-product rule.
    cart_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("carts.id", ondelete="CASCADE"),
                                               primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    added_at: Mapped[datetime] = created_at_column()


class CartCheckout(db.Model):  # type: ignore[name-defined,misc]
    """A paid order whose units have been taken out of its buyer's cart: the key that makes it happen once."""

    __tablename__ = "cart_checkouts"

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
