"""Request bodies and the cart object the API returns."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, Field, model_validator

from storefront_common.validation import Body

from .models import MAX_LINE_QUANTITY


class AddItemIn(Body):
    product_id: uuid.UUID
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY, description="Units to add to the line")


class SetQuantityIn(Body):
    quantity: int = Field(ge=0, le=MAX_LINE_QUANTITY, description="The line's new quantity; 0 removes it")


class CheckoutLineIn(Body):
    product_id: uuid.UUID
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY, description="Units the order bought")


class CheckoutIn(Body):
    """A paid order: its units come out of the buyer's cart once, however often this is sent."""

    order_id: uuid.UUID
    items: list[CheckoutLineIn] = Field(min_length=1, max_length=100, description="Each product once")

    @model_validator(mode="after")
    def _each_product_once(self) -> CheckoutIn:
        if len({line.product_id for line in self.items}) != len(self.items):
            raise ValueError("each product appears once")
        return self


class CartLineOut(BaseModel):
    product_id: uuid.UUID
    name: str
    unit_price: int = Field(description="Current price in the currency's minor unit")
    currency: str
    quantity: int
    line_total: int
    available: int = Field(description="Units the products service can still sell; 0 for an inactive product")


class CartOut(BaseModel):
    items: list[CartLineOut]
    subtotal: int = Field(description="Sum of the line totals in the cart's currency")
    currency: str
    item_count: int = Field(description="Sum of the quantities")
    updated_at: str | None = Field(description="Last change to the lines; null for a cart never touched or expired")


class StoredLineOut(BaseModel):
    product_id: uuid.UUID
    quantity: int


class StoredLinesOut(BaseModel):
    """A cart's lines as stored, without catalog details (what checkout needs to reserve them)."""

    items: list[StoredLineOut]
