"""/api/v1/categories: public list, admin writes."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from sqlalchemy.exc import IntegrityError

from storefront_common.auth import auth_required
from storefront_common.errors import conflict, not_found, validation_error
from storefront_common.openapi import operation

from .. import store
from ..dependencies import db
from ..json_bodies import category_json
from ..models import Category
from ..schemas import CategoryIn, CategoryList, CategoryOut, CategoryPatch
from ..slugs import slugify

blueprint = Blueprint("categories", __name__, url_prefix="/api/v1/categories")


def _slug_for(name: str) -> str:
    slug = slugify(name)
    if not slug:
        raise validation_error([{"field": "name", "message": "The name needs at least one letter or digit."}])
    return slug


def _save(category: Category) -> None:
    """Commit, turning a clash on the unique slug (even a concurrent one) into 409."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise conflict(f"A category with the slug '{category.slug}' already exists.") from None


def _category_or_404(category_id: uuid.UUID, lock: bool = False) -> Category:
    category = store.load_category(db.session, category_id, lock=lock)
    if category is None:
        raise not_found("category")
    return category


@blueprint.get("")
@operation("List every category, sorted by name (not paginated: the set is small and navigation needs all of it)",
           response=CategoryList)
def list_categories() -> dict[str, Any]:
    return {"items": [category_json(category) for category in store.categories_by_name(db.session)]}


@blueprint.post("")
@auth_required("admin")
@operation("Create a category; the slug comes from the name and is unique", body=CategoryIn,
           response=CategoryOut, status=201, errors=(409,))
def create_category(body: CategoryIn) -> tuple[dict[str, Any], int]:
    category = Category(name=body.name, slug=_slug_for(body.name), description=body.description,
                        attributes=body.attributes)
    store.add(db.session, category)
    _save(category)
    return category_json(category), 201


@blueprint.patch("/<uuid:category_id>")
@auth_required("admin")
@operation("Change a category; a new name gives a new slug. Removing attribute keys leaves existing "
           "products' values alone", body=CategoryPatch, response=CategoryOut, errors=(404, 409))
def update_category(category_id: uuid.UUID, body: CategoryPatch) -> dict[str, Any]:
    category = _category_or_404(category_id)
    if body.name is not None:
        category.name = body.name
        category.slug = _slug_for(body.name)
    if body.description is not None:
        category.description = body.description
    if body.attributes is not None:
        category.attributes = body.attributes
    _save(category)
    return category_json(category)


@blueprint.delete("/<uuid:category_id>")
@auth_required("admin")
@operation("Delete a category without active products (409 otherwise); its inactive products keep no "
           "category", status=204, errors=(404, 409))
def delete_category(category_id: uuid.UUID) -> tuple[str, int]:
    category = _category_or_404(category_id, lock=True)
    if store.has_active_products(db.session, category.id):
        db.session.rollback()
        raise conflict("The category still has active products.")
    store.delete_category(db.session, category)
    db.session.commit()
    return "", 204
