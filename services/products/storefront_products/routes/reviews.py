"""/api/v1/products/{id}/reviews: public list, customers write."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from storefront_common.auth import auth_required, current_user_id
from storefront_common.errors import not_found
from storefront_common.openapi import operation
from storefront_common.pagination import PageQuery, paginate

from .. import store
from ..access import optional_auth, visible_product
from ..dependencies import db
from ..json_bodies import review_json
from ..reviews import add_review
from ..schemas import ReviewIn, ReviewOut, ReviewPage

blueprint = Blueprint("reviews", __name__, url_prefix="/api/v1/products")


@blueprint.get("/<uuid:product_id>/reviews")
@operation("List a product's reviews, newest first", query=PageQuery, response=ReviewPage, errors=(401, 404))
def list_reviews(product_id: uuid.UUID, query: PageQuery) -> dict[str, Any]:
    optional_auth()
    visible_product(store.get_product(db.session, product_id))
    return paginate(db.session, store.newest_reviews(product_id), query, review_json)


@blueprint.post("/<uuid:product_id>/reviews")
@auth_required("customer")
@operation("Review an active product once (1..5); the product's rating updates in the same transaction",
           body=ReviewIn, response=ReviewOut, status=201, errors=(404, 409))
def create_review(product_id: uuid.UUID, body: ReviewIn) -> tuple[dict[str, Any], int]:
    user_id = current_user_id()
    product = store.get_product(db.session, product_id)
    if product is None or not product.is_active:
        raise not_found("product")
    review = add_review(db.session, product_id, user_id, body.rating, body.comment)
    return review_json(review), 201
