"""Reviews and the product's rating, kept consistent in one transaction."""
from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storefront_common.errors import conflict

from . import store
from .models import Review


def add_review(session: Session, product_id: uuid.UUID, user_id: uuid.UUID, rating: int,
               comment: str | None) -> Review:
    review = Review(product_id=product_id, user_id=user_id, rating=rating, comment=comment)
    try:
        store.insert_review(session, review)
    except IntegrityError:
        session.rollback()
        raise conflict("You have already reviewed this product.") from None
    store.add_rating(session, product_id, rating)
    session.commit()
    return review
