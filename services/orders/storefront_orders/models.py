"""Tables of the orders service."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront_common.db import created_at_column, updated_at_column
from storefront_common.idempotency import IdempotencyRecordMixin

from .dependencies import db


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


class PaymentStatus(StrEnum):
    PENDING = "pending"          # not settled yet (Paystack awaiting the customer, or not initialised)
    SUCCESS = "success"
    FAILED = "failed"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


class ReservationState(StrEnum):
    NONE = "none"                # nothing reserved for the current attempt
    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"
    LOST = "lost"                # products refused to commit it (expired): needs a human


def _check_in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(value.value) for value in values)})"


class Order(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_check_in("status", OrderStatus), name="status_known"),
        CheckConstraint(_check_in("payment_status", PaymentStatus), name="payment_status_known"),
        CheckConstraint(_check_in("reservation_state", ReservationState), name="reservation_state_known"),
        CheckConstraint("payment_method IN ('wallet', 'paystack')", name="payment_method_known"),
        CheckConstraint("subtotal >= 0 AND total >= 0", name="amounts_not_negative"),
        Index("ix_orders_user_created", "user_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    # Not random: uuid5 of (user, Idempotency-Key), so every retry of one checkout converges on one order.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)

    payment_method: Mapped[str] = mapped_column(String(16), nullable=False)
    payment_status: Mapped[str] = mapped_column(String(16), nullable=False, default=PaymentStatus.PENDING)
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    authorization_url: Mapped[str | None] = mapped_column(Text)
    # Set before payments is first called: from then on money may have moved, so cancelling must refund.
    payment_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    reservation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # A released reservation cannot be revived, so a resumed checkout reserves under a new attempt number.
    reservation_attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reservation_state: Mapped[str] = mapped_column(String(16), nullable=False, default=ReservationState.NONE)
    cart_cleared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    refund_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    escrow_released: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.position", lazy="selectin",
        cascade="all, delete-orphan")


class OrderItem(db.Model):  # type: ignore[name-defined,misc]
    """One line, priced from the stock reservation (the catalog's price at checkout)."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0 AND line_total >= 0", name="amounts_not_negative"),
        Index("ix_order_items_vendor_order", "vendor_id", "order_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id", ondelete="CASCADE"),
                                                primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    line_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    vendor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)

    order: Mapped[Order] = relationship(back_populates="items")


class IdempotencyRecord(IdempotencyRecordMixin, db.Model):  # type: ignore[name-defined,misc]
    pass
