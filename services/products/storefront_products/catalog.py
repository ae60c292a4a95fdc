"""The public catalogue: which products a listing shows, in which order, one page at a time."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from storefront_common.pagination import envelope

from .models import Category, Product
from .representations import product_json
from .schemas import ProductQuery

PRODUCT_COLUMNS = (
    Product.id, Product.name, Product.slug, Product.description, Product.price, Product.currency,
    Product.stock, Product.vendor_id, Product.attributes, Product.images, Product.is_active,
    Product.rating_average, Product.rating_count, Product.created_at, Product.updated_at,
    Product.category_id, Category.slug.label("category_slug"), Category.name.label("category_name"),
)

SORT_COLUMNS = {
    "name": Product.name,
    "price": Product.price,
    "created_at": Product.created_at,
    "rating": Product.rating_average,
}


def product_select() -> Select[Any]:
    """Products with their category in one query (never one category query per product)."""
    return select(*PRODUCT_COLUMNS).outerjoin(Category, Category.id == Product.category_id)


def find_product_json(session: Session, product_id: uuid.UUID) -> dict[str, Any] | None:
    row = session.connection().execute(product_select().where(Product.id == product_id)).one_or_none()
    return product_json(row) if row is not None else None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _category_filter(category: str) -> ColumnElement[bool]:
    try:
        return Product.category_id == uuid.UUID(category)
    except ValueError:
        return Category.slug == category.lower()


def listing_filters(query: ProductQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Product.is_active.is_(True)]
    if query.q is not None:
        pattern = _like_pattern(query.q)
        filters.append(or_(Product.name.ilike(pattern, escape="\\"),
                           Product.description.ilike(pattern, escape="\\")))
    if query.category is not None:
        filters.append(_category_filter(query.category))
    if query.vendor_id is not None:
        filters.append(Product.vendor_id == query.vendor_id)
    if query.min_price is not None:
        filters.append(Product.price >= query.min_price)
    if query.max_price is not None:
        filters.append(Product.price <= query.max_price)
    if query.in_stock is True:
        filters.append(Product.stock > 0)
    elif query.in_stock is False:
        filters.append(Product.stock == 0)
    return filters


def _order_by(sort: str) -> tuple[ColumnElement[Any], ...]:
    # The id breaks ties, in the same direction, so pages never overlap or skip rows.
    column = SORT_COLUMNS[sort.lstrip("-")]
    if sort.startswith("-"):
        return column.desc(), Product.id.desc()
    return column.asc(), Product.id.asc()


def list_products(session: Session, query: ProductQuery) -> dict[str, Any]:
    filters = listing_filters(query)
    count_statement = select(func.count()).select_from(Product)
    if query.category is not None:
        count_statement = count_statement.outerjoin(Category, Category.id == Product.category_id)
    # Plain Core execution: the rows become JSON directly, so the ORM's result machinery is pure overhead.
    connection = session.connection()
    total = connection.scalar(count_statement.where(*filters)) or 0
    rows = []
    offset = (query.page - 1) * query.per_page
    if offset < total:
        page_statement = (product_select().where(*filters).order_by(*_order_by(query.sort))
                          .limit(query.per_page).offset(offset))
        rows = connection.execute(page_statement).all()
    return envelope([product_json(row) for row in rows], query.page, query.per_page, total)
