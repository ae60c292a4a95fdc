"""Request bodies, query strings and response objects of the products API."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, Field, StringConstraints, ValidationInfo, field_validator,
                      model_validator)

from storefront_common.currency import Currency, shop_currency
from storefront_common.pagination import PageQuery
from storefront_common.validation import Body, Query

from .models import MAX_STOCK


SortOrder = Literal["name", "-name", "price", "-price", "created_at", "-created_at", "rating", "-rating",
                    "relevance"]
MAX_PRICE = 10**12
SHOP_CURRENCY_ONLY = ("Only the shop's currency (STOREFRONT_CURRENCY, NGN unless configured); any other is refused "
                      "with 422, as the shop could not settle it")
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_\-]+$")]
# JSON columns cannot store NaN or infinities.
AttributeValue = (Annotated[str, StringConstraints(max_length=200)] | int
                  | Annotated[float, Field(allow_inf_nan=False)] | bool)
# An http(s) URL, or a path on the shop's own site (the demo catalog's /static/demo/...); never `//host/...`.
ImageUrl = Annotated[str, StringConstraints(min_length=8, max_length=2000,
                                            pattern=r"^(https?://[^\s\x00]+|/[^/\s\x00][^\s\x00]*)$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=5000)]
Price = Annotated[int, Field(gt=0, le=MAX_PRICE)]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]


class PatchBody(Body):
    """PATCH bodies: every field optional, but an explicit null is not a value any field accepts."""

    @model_validator(mode="before")
    @classmethod
    def reject_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(key for key, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"null is not allowed for: {', '.join(nulls)}")
        return data


def _unique_keys(keys: list[str]) -> list[str]:
    if len(set(keys)) != len(keys):
        raise ValueError("attribute keys must be unique")
    return keys


# --- categories ---------------------------------------------------------------------------------

class CategoryIn(Body):
    name: Name
    description: Description = ""
    attributes: list[AttributeKey] = Field(default_factory=list, max_length=50)

    @field_validator("attributes")
    @classmethod
    def attribute_keys_unique(cls, keys: list[str]) -> list[str]:
        return _unique_keys(keys)


class CategoryPatch(PatchBody):
    name: Name | None = None
    description: Description | None = None
    attributes: list[AttributeKey] | None = Field(default=None, max_length=50)

    @field_validator("attributes")
    @classmethod
    def attribute_keys_unique(cls, keys: list[str] | None) -> list[str] | None:
        return None if keys is None else _unique_keys(keys)


class CategoryOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    description: str
    attributes: list[str]


class CategoryList(BaseModel):
    items: list[CategoryOut]


# --- products -----------------------------------------------------------------------------------

class ProductIn(Body):
    name: ProductName
    description: Description = ""
    price: Price
    currency: Currency = Field(default_factory=shop_currency, description=f"{SHOP_CURRENCY_ONLY}. Absent: the shop's")
    stock: Stock
    category_id: uuid.UUID
    attributes: dict[AttributeKey, AttributeValue] = Field(default_factory=dict, max_length=50)
    images: list[ImageUrl] = Field(default_factory=list, max_length=20)
    is_active: bool = True



class ProductPatch(PatchBody):
    """Stock is not here on purpose: it changes only through the inventory endpoint and reservations."""

    name: ProductName | None = None
    description: Description | None = None
    price: Price | None = None
    currency: Currency | None = Field(default=None, description=SHOP_CURRENCY_ONLY)
    category_id: uuid.UUID | None = None
    attributes: dict[AttributeKey, AttributeValue] | None = Field(default=None, max_length=50)
    images: list[ImageUrl] | None = Field(default=None, max_length=20)
    is_active: bool | None = None




class ProductQuery(PageQuery):
    q: str | None = Field(default=None, min_length=1, max_length=200,
                          description="Full-text search of name, category and description (English stemming, "
                                      "websearch syntax: \"quoted phrase\", -excluded, or); when it finds nothing, "
                                      "it runs again with each word replaced by the catalogue's most similar word "
                                      "(typos; PostgreSQL only)")
    category: str | None = Field(default=None, min_length=1, max_length=120,
                                                   description="Category slug or id")
    vendor_id: uuid.UUID | None = None
    min_price: int | None = Field(default=None, ge=0, le=MAX_PRICE,
                                  description="Lowest price; above max_price answers 422")
    max_price: int | None = Field(default=None, ge=0, le=MAX_PRICE,
                                  description="Highest price; must not be below min_price (422 otherwise)")
    in_stock: bool | None = Field(default=None, description="true: stock > 0 only; false: sold out only")
    sort: SortOrder | None = Field(default=None, description="Absent: relevance when `q` is given, else -created_at; "
                                                             "relevance without `q` answers 422")
    cursor: str | None = Field(default=None, min_length=1, max_length=1000,
                               description="From a `next` or `prev` link: continue where that page ended, with the "
                                           "same filters, sort and per_page (422 otherwise, and with `page`)")

    @field_validator("max_price")
    @classmethod
    def not_below_min_price(cls, max_price: int | None, info: ValidationInfo) -> int | None:
        min_price = info.data.get("min_price")
        if max_price is not None and min_price is not None and min_price > max_price:
            raise ValueError("max_price must not be below min_price")
        return max_price

    @field_validator("sort")
    @classmethod
    def relevance_needs_q(cls, sort: str | None, info: ValidationInfo) -> str | None:
        if sort == "relevance" and info.data.get("q") is None:
            raise ValueError("sort=relevance needs a search (q)")
        return sort

    @property
    def order(self) -> str:
        """The sort in effect."""
        if self.sort is not None:
            return self.sort
        return "relevance" if self.q is not None else "-created_at"

    def fingerprint(self) -> str:
        """What a cursor is bound to: everything but the position."""
        return f"{self.model_dump_json(exclude={'page', 'cursor', 'sort'})}|{self.order}"


class CategoryRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class Rating(BaseModel):
    average: float = Field(description="Mean rating rounded to 2 decimals; 0 when there are no reviews")
    count: int


class ProductOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    description: str
    price: int = Field(description="Minor units of `currency` (kobo for NGN)")
    currency: Currency
    stock: int = Field(description="Units that can still be bought; reserved units are not counted")
    category: CategoryRef | None = Field(description="null only for an inactive product whose category was deleted")
    vendor_id: uuid.UUID
    attributes: dict[str, Any]
    images: list[str]
    rating: Rating
    is_active: bool
    created_at: str
    updated_at: str


class ProductPage(BaseModel):
    items: list[ProductOut]
    page: int = Field(description="The page number; on a cursor's page, counted from the first page walked")
    per_page: int
    total: int = Field(description="Exact up to CATALOG_EXACT_TOTAL_LIMIT matches (10,000), above it the "
                                   "planner's estimate (`total_is_estimate`)")
    pages: int
    total_is_estimate: bool
    next: str | None = Field(description="Path and query of the next page (a `cursor`), null on the last page")
    prev: str | None = Field(description="Path and query of the previous page (a `cursor`), null on the first")


class InternalProductsQuery(Query):
    ids: str = Field(min_length=1, max_length=100 * 37,
                     description="Comma-separated product ids, at most 100; unknown ids are listed in `missing`")

    @field_validator("ids")
    @classmethod
    def ids_are_uuids(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            raise ValueError("give at least one product id")
        if len(parts) > 100:
            raise ValueError("at most 100 ids")
        for part in parts:
            uuid.UUID(part)
        return value

    def id_list(self) -> list[uuid.UUID]:
        return list(dict.fromkeys(uuid.UUID(part.strip()) for part in self.ids.split(",") if part.strip()))


class InternalProductOut(BaseModel):
    id: uuid.UUID
    name: str
    price: int
    currency: Currency
    stock: int
    is_active: bool
    vendor_id: uuid.UUID


class InternalProductList(BaseModel):
    items: list[InternalProductOut]
    missing: list[uuid.UUID] = Field(description="Requested ids that match no product")


# --- inventory ----------------------------------------------------------------------------------

class InventoryIn(Body):
    delta: int | None = Field(default=None, ge=-MAX_STOCK, le=MAX_STOCK)
    stock: int | None = Field(default=None, ge=-MAX_STOCK, le=MAX_STOCK,
                              description="New absolute level; below 0 answers 409 like a delta would")

    @model_validator(mode="after")
    def exactly_one(self) -> InventoryIn:
        if (self.delta is None) == (self.stock is None):
            raise ValueError("give exactly one of delta or stock")
        return self


class InventoryOut(BaseModel):
    product_id: uuid.UUID
    stock: int


# --- reviews ------------------------------------------------------------------------------------

class ReviewIn(Body):
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ReviewOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    user_id: uuid.UUID
    rating: int
    comment: str | None
    created_at: str


class ReviewPage(BaseModel):
    items: list[ReviewOut]
    page: int
    per_page: int
    total: int
    pages: int


# --- reservations -------------------------------------------------------------------------------

class ReservationLineIn(Body):
    product_id: uuid.UUID
    quantity: int = Field(ge=1, le=MAX_STOCK)



class ReservationIn(Body):
    order_id: uuid.UUID
    items: list[ReservationLineIn] = Field(min_length=1, max_length=100)
    ttl_seconds: int = Field(ge=1, description="At most RESERVATION_MAX_TTL_SECONDS (default 86400)")



class ReservationLineOut(BaseModel):
    product_id: uuid.UUID
    quantity: int
    name: str
    unit_price: int
    currency: Currency
    vendor_id: uuid.UUID


class ReservationOut(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    status: Literal["active", "committed", "released", "expired", "returned"]
    expires_at: str
    items: list[ReservationLineOut]


class InsufficientLine(BaseModel):
    product_id: uuid.UUID
    requested: int
    available: int
