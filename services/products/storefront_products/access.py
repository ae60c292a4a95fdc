"""Who is calling, and what that caller may see or change."""
from __future__ import annotations

import uuid

from flask_jwt_extended import get_jwt, verify_jwt_in_request

from storefront_common.auth import current_roles
from storefront_common.errors import ProblemError, not_found

from .models import Product

ADMIN = "admin"


def caller_user_id() -> uuid.UUID | None:
    """The caller's user id, or None for anonymous callers and service tokens (whose sub is `svc:<name>`)."""
    claims = get_jwt()
    try:
        return uuid.UUID(str(claims["sub"])) if claims else None
    except (KeyError, ValueError):
        return None


def optional_auth() -> None:
    """Public endpoints read a token when one is sent (a bad token is still 401), so owners see more."""
    verify_jwt_in_request(optional=True)


def can_manage(vendor_id: uuid.UUID) -> bool:
    """Admins manage every product, vendors their own."""
    if not get_jwt():
        return False
    return ADMIN in current_roles() or vendor_id == caller_user_id()


def check_visible(is_active: bool, vendor_id: uuid.UUID) -> None:
    """An inactive product is private to its vendor and admins: to anybody else it does not exist."""
    if not is_active and not can_manage(vendor_id):
        raise not_found("product")


def visible_product(product: Product | None) -> Product:
    if product is None:
        raise not_found("product")
    check_visible(product.is_active, product.vendor_id)
    return product


def managed_product(product: Product | None) -> Product:
    """Another vendor's active product is 403 (it is public anyway); an inactive one stays hidden (404)."""
    product = visible_product(product)
    if not can_manage(product.vendor_id):
        raise ProblemError(403, "Only the product's vendor or an admin may change it.")
    return product
