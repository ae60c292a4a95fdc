"""The JSON bodies the service answers with: categories, products, reviews and reservations (the shapes
documented by schemas.py's *Out models)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from storefront_common.timeutil import isoformat

from .models import Category, ReservationView, Review


def category_json(category: Category) -> dict[str, Any]:
    return {"id": str(category.id), "name": category.name, "slug": category.slug,
            "description": category.description, "attributes": list(category.attributes)}


def product_json(row: Row[Any]) -> dict[str, Any]:
    """A row of store.find_product or store.listing_page: the product and its category's id, slug and name."""
    category = None
    if row.category_id is not None:
        category = {"id": str(row.category_id), "slug": row.category_slug, "name": row.category_name}
    return {
        "id": str(row.id), "name": row.name, "slug": row.slug, "description": row.description,
        "price": row.price, "currency": row.currency, "stock": row.stock, "category": category,
        "vendor_id": str(row.vendor_id), "attributes": row.attributes, "images": row.images,
        "rating": {"average": round(row.rating_average, 2), "count": row.rating_count},
        "is_active": row.is_active, "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at),
    }


def review_json(review: Review) -> dict[str, Any]:
    return {"id": str(review.id), "product_id": str(review.product_id), "user_id": str(review.user_id),
            "rating": review.rating, "comment": review.comment, "created_at": isoformat(review.created_at)}


def reservation_json(reservation: ReservationView) -> dict[str, Any]:
    return {
        "id": str(reservation.id), "order_id": str(reservation.order_id), "status": reservation.status,
        "expires_at": isoformat(reservation.expires_at),
        "items": [{"product_id": str(item.product_id), "quantity": item.quantity, "name": item.name,
                   "unit_price": item.unit_price, "currency": item.currency, "vendor_id": str(item.vendor_id)}
                  for item in reservation.items],
    }
