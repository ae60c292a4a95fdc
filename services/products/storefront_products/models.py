"""Tables of the products service, and the values a reservation is read into."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, Uuid, text)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from storefront_common.db import UTCDateTime, created_at_column, updated_at_column, uuid_pk

from .dependencies import db

ONLY_ACTIVE = text("is_active")
# Upper bound of any stock level, so arithmetic on the 32-bit column can never overflow.
MAX_STOCK = 1_000_000_000


class Category(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    slug: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attributes: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Product(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint(f"stock >= 0 AND stock <= {MAX_STOCK}", name="stock_in_range"),
        CheckConstraint("rating_count >= 0", name="rating_count_not_negative"),
        # The public listing shows active products only: one partial index per sort order, and a narrow one
        # that lets PostgreSQL count the active products with an index-only scan (3x faster than a seq scan).
        *(Index(f"ix_products_active_{name}", column, "id", postgresql_where=ONLY_ACTIVE,
                sqlite_where=ONLY_ACTIVE)
          for name, column in (("created", "created_at"), ("price", "price"), ("name", "name"),
                               ("rating", "rating_average"))),
        Index("ix_products_active_count", "is_active", postgresql_where=ONLY_ACTIVE, sqlite_where=ONLY_ACTIVE),
        # A category's page in each sort order, and a vendor's newest first (migration 0003).
        *(Index(f"ix_products_active_category_{name}", "category_id", column, "id", postgresql_where=ONLY_ACTIVE,
                sqlite_where=ONLY_ACTIVE)
          for name, column in (("created", "created_at"), ("price", "price"), ("name", "name"),
                               ("rating", "rating_average"))),
        Index("ix_products_active_vendor_created", "vendor_id", "created_at", "id", postgresql_where=ONLY_ACTIVE,
              sqlite_where=ONLY_ACTIVE),
        # Search (PostgreSQL; SQLite has the FTS5 table products_fts instead).
        Index("ix_products_active_search", "search_vector", postgresql_using="gin", postgresql_where=ONLY_ACTIVE),
        # A search's name matches, found apart from the other matches (migration 0004, store.RANKED_CANDIDATES).
        Index("ix_products_active_name_search", text("to_tsvector('english'::regconfig, name)"),
              postgresql_using="gin", postgresql_where=ONLY_ACTIVE).ddl_if(dialect="postgresql"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(220), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="NGN")
    stock: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Nullable so a category whose products are all inactive can be deleted; see routes/categories.py.
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    images: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    rating_sum: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rating_average: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    # Written by a trigger only (migration 0003), never loaded; always NULL on SQLite (products_fts there).
    search_vector: Mapped[str | None] = deferred(mapped_column(TSVECTOR().with_variant(Text(), "sqlite")))

    category: Mapped[Category | None] = relationship(lazy="raise")


class SearchWord(db.Model):  # type: ignore[name-defined,misc]
    """The words of the products' names and descriptions, kept by triggers (PostgreSQL, migration 0005): a
    search that finds nothing is corrected word by word to the most similar of them (store._corrected)."""

    __tablename__ = "search_words"
    __table_args__ = (Index("ix_search_words_trigrams", "word", postgresql_using="gin",
                            postgresql_ops={"word": "gin_trgm_ops"}),)

    word: Mapped[str] = mapped_column(Text, primary_key=True)


class Review(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "user_id"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_in_range"),
        Index("ix_reviews_product_created", "product_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"),
                                                  nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class ReservationStatus:
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"
    RETURNED = "returned"  # committed, then the order was cancelled before shipping: units back on sale


class Reservation(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'committed', 'released', 'expired', 'returned')",
                        name="status_known"),
        Index("ix_reservations_status_expires", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ReservationStatus.ACTIVE)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    items: Mapped[list[ReservationItem]] = relationship(
        back_populates="reservation", order_by="ReservationItem.product_id", lazy="selectin")


class ReservationItem(db.Model):  # type: ignore[name-defined,misc]
    """One reserved line, with the product's name and price as they were when the units were reserved."""

    __tablename__ = "reservation_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    reservation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    vendor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)

    reservation: Mapped[Reservation] = relationship(back_populates="items")


class ReservedLine(NamedTuple):
    """A ReservationItem as the service reads and answers it."""

    product_id: uuid.UUID
    quantity: int
    name: str
    unit_price: int
    currency: str
    vendor_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReservationView:
    """What the service answers about a reservation (json_bodies.reservation_json)."""

    id: uuid.UUID
    order_id: uuid.UUID
    status: str
    expires_at: datetime
    items: list[ReservedLine]  # in product-id order
