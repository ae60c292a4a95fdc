"""Reviews and the product's rating, kept consistent in one transaction."""
from __future__ import annotations

import uuid

from sqlalchemy import Float, cast, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storefront_common.errors import conflict

from .models import Product, Review


def add_review(session: Session, product_id: uuid.UUID, user_id: uuid.UUID, rating: int,
               comment: str | None) -> Review:
    review = Review(product_id=product_id, user_id=user_id, rating=rating, comment=comment)
    session.add(review)
    try:
        # The unique (product_id, user_id) constraint decides, even between two concurrent requests.
        session.flush()
    except IntegrityError:
        session.rollback()
        raise conflict("You have already reviewed this product.") from None
    # SQL arithmetic on the row itself: concurrent reviews each add their own rating, none is lost.
    session.execute(
        update(Product).where(Product.id == product_id)
        .values(rating_sum=Product.rating_sum + rating, rating_count=Product.rating_count + 1,
                rating_average=cast(Product.rating_sum + rating, Float) / (Product.rating_count + 1))
        .execution_options(synchronize_session=False))
    session.commit()
    return review
