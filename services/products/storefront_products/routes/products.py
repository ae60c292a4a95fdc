"""/api/v1/products (the catalogue and vendors' writes) and /internal/products (batch lookup for services)."""
from __future__ import annotations

import uuid
from typing import Any

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from storefront_common.auth import auth_required, current_user_id, service_required
from storefront_common.currency import require_shop_currency
from storefront_common.errors import not_found, validation_error
from storefront_common.openapi import operation
from storefront_common.pagination import envelope

from .. import cursors, store
from ..access import check_visible, managed_product, optional_auth
from ..cursors import Position
from ..dependencies import db, deps
from ..json_bodies import product_json
from ..models import Category, Product
from ..schemas import (InternalProductList, InternalProductsQuery, ProductIn, ProductOut, ProductPage,
                       ProductPatch, ProductQuery)
from ..slugs import slugify

blueprint = Blueprint("products", __name__, url_prefix="/api/v1/products")
internal_blueprint = Blueprint("internal_products", __name__, url_prefix="/internal/products")


def _category_for(category_id: uuid.UUID) -> Category:
    category = store.get_category(db.session, category_id)
    if category is None:
        raise validation_error([{"field": "category_id", "message": "No category has this id."}])
    return category


def _check_attributes(attributes: dict[str, Any], category: Category | None) -> None:
    allowed = set(category.attributes) if category is not None else set()
    unknown = sorted(key for key in attributes if key not in allowed)
    if unknown:
        raise validation_error([{"field": f"attributes.{key}", "message": "Not an attribute of the category."}
                                for key in unknown])


def _product_slug(name: str) -> str:
    # Products share slugs freely (two vendors may sell the same thing); the id is what identifies one.
    return slugify(name, max_length=220) or "product"


def _saved_product_json(product_id: uuid.UUID) -> dict[str, Any]:
    try:
        db.session.commit()
    except IntegrityError:
        # Only a category deleted between our check and the commit can get here.
        db.session.rollback()
        raise validation_error([{"field": "category_id", "message": "No category has this id."}]) from None
    found = store.find_product(db.session.connection(), product_id)
    assert found is not None
    return product_json(found)


def _apply_changes(product: Product, changes: dict[str, Any]) -> None:
    # A product priced before the shop's currency rule (or before STOREFRONT_CURRENCY changed) is changed only
    # into the shop's currency: it could be listed, but never checked out.
    require_shop_currency([("The product", changes.get("currency", product.currency))])
    if "category_id" in changes:
        product.category_id = _category_for(changes["category_id"]).id
    if "category_id" in changes or "attributes" in changes:
        category = store.get_category(db.session, product.category_id) if product.category_id else None
        _check_attributes(changes.get("attributes", product.attributes), category)
    if changes.get("is_active") and product.category_id is None:
        raise validation_error([{"field": "category_id",
                                 "message": "The product's category was deleted; give a category_id."}])
    for field in ("name", "description", "price", "currency", "attributes", "images", "is_active"):
        if field in changes:
            setattr(product, field, changes[field])
    if "name" in changes:
        product.slug = _product_slug(product.name)


@blueprint.get("")
@operation("List active products: search (ranked), filter, sort (ties broken by id), paginate by page or cursor "
           "(`next`/`prev` and a Link header)", query=ProductQuery, response=ProductPage)
def list_catalogue(query: ProductQuery) -> Response:
    if query.cursor is not None and "page" in query.model_fields_set:
        raise validation_error([{"field": "cursor", "message": "Give either cursor or page, not both."}])
    position = _position(query)
    cache = deps().listing_cache
    if cache is None:
        body, links = _render_listing(query, position)
    else:
        body, links = cache.get_or_render(query.model_dump_json(), lambda: _render_listing(query, position))
    response = current_app.response_class(body, mimetype="application/json")
    if cache is not None:
        response.headers["Cache-Control"] = f"public, max-age={max(int(cache.seconds), 1)}"
    if links:
        response.headers["Link"] = links
    return response


def _position(query: ProductQuery) -> Position | None:
    if query.cursor is None:
        return None
    try:
        return cursors.decode(query.cursor, query.fingerprint(), query.order.lstrip("-"))
    except ValueError as error:
        raise validation_error([{"field": "cursor", "message": str(error)}]) from None


def _link(query: ProductQuery, row: Any, backwards: bool, page: int, fallback: bool) -> str:
    token = cursors.encode(Position(row.sort_key, row.id, backwards, max(page, 1), fallback), query.fingerprint())
    kept = [(name, value) for name, value in request.args.items(multi=True) if name not in ("page", "cursor")]
    return f"{request.path}?{urlencode([*kept, ('cursor', token)])}"


def _estimate(query: ProductQuery, fallback: bool) -> int:
    """The planner's estimate of the matches, remembered per worker for CATALOG_ESTIMATE_SECONDS."""
    def estimate() -> int:
        return deps().catalog_reads.run(lambda connection: store.estimated_total(connection, query, fallback))

    estimates = deps().total_estimates
    return estimate() if estimates is None else estimates.get_or_render(f"{query.fingerprint()}|{fallback}", estimate)


def _render_listing(query: ProductQuery, position: Position | None) -> tuple[bytes, str | None]:
    """The page's JSON and its Link header."""
    # Counting is what costs on a large result, so only a result the planner expects to be small is counted
    # (and no further than the limit); a larger one gets the estimate.
    exact_limit = deps().settings.catalog_exact_total_limit
    expected = _estimate(query, position is not None and position.fallback)
    count_up_to = exact_limit if expected <= exact_limit else None
    listed = deps().catalog_reads.run(lambda connection: store.listing_page(connection, query, position, count_up_to))
    estimated = listed.total is None
    total = max(_estimate(query, listed.fallback), exact_limit + 1) if listed.total is None else listed.total
    rows, page = listed.rows, position.page if position is not None else query.page
    backwards = position is not None and position.backwards
    # Walking forwards, a page came from the one before it (or is a numbered page after the first); the other
    # way round when walking backwards.
    has_next = listed.more if not backwards else bool(rows)
    has_prev = (listed.more if backwards else (position is not None or page > 1)) and bool(rows)
    next_url = _link(query, rows[-1], False, page + 1, listed.fallback) if has_next and rows else None
    prev_url = _link(query, rows[0], True, page - 1, listed.fallback) if has_prev else None
    body = {**envelope([product_json(row) for row in rows], page, query.per_page, total),
            "total_is_estimate": estimated, "next": next_url, "prev": prev_url}
    links = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in ((next_url, "next"), (prev_url, "prev")) if url)
    return current_app.json.dumps(body).encode(), links or None


@blueprint.post("")
@auth_required("vendor", "admin")
@operation("Create a product sold by the caller. 422 for a currency other than the shop's (STOREFRONT_CURRENCY)",
           body=ProductIn, response=ProductOut, status=201)
def create_product(body: ProductIn) -> tuple[dict[str, Any], int]:
    require_shop_currency([("The product", body.currency)])
    vendor_id = current_user_id()
    category = _category_for(body.category_id)
    _check_attributes(body.attributes, category)
    product_id = uuid.uuid4()
    store.add(db.session, Product(id=product_id, name=body.name, slug=_product_slug(body.name),
                                  description=body.description, price=body.price, currency=body.currency,
                                  stock=body.stock, category_id=category.id, vendor_id=vendor_id,
                                  attributes=body.attributes, images=body.images, is_active=body.is_active))
    return _saved_product_json(product_id), 201


@blueprint.get("/<uuid:product_id>")
@operation("Read a product; an inactive one only for its vendor or an admin (404 for anybody else)",
           response=ProductOut, errors=(401, 404))
def read_product(product_id: uuid.UUID) -> dict[str, Any]:
    optional_auth()
    found = deps().catalog_reads.run(lambda connection: store.find_product(connection, product_id))
    if found is None:
        raise not_found("product")
    check_visible(found.is_active, found.vendor_id)
    return product_json(found)


@blueprint.patch("/<uuid:product_id>")
@auth_required("vendor", "admin")
@operation("Change a product (owning vendor or admin). Stock changes go through /inventory. 422 when the "
           "product would be in a currency other than the shop's (STOREFRONT_CURRENCY): a product priced in "
           "another one is changed only together with `currency` set to the shop's",
           body=ProductPatch, response=ProductOut, errors=(404,))
def update_product(product_id: uuid.UUID, body: ProductPatch) -> dict[str, Any]:
    product = managed_product(store.get_product(db.session, product_id))
    changes = body.model_dump(exclude_unset=True)
    # Nothing is written before the one commit, where a concurrently deleted category turns into 422.
    with db.session.no_autoflush:
        _apply_changes(product, changes)
    return _saved_product_json(product.id)


@blueprint.delete("/<uuid:product_id>")
@auth_required("vendor", "admin")
@operation("Deactivate a product (soft delete; repeating it is harmless)", status=204, errors=(404,))
def deactivate_product(product_id: uuid.UUID) -> tuple[str, int]:
    product = managed_product(store.get_product(db.session, product_id))
    product.is_active = False
    db.session.commit()
    return "", 204


@internal_blueprint.get("")
@service_required
@operation("Batch lookup for other services (carts, orders): price, stock and state of up to 100 products "
           "in one call, inactive ones included", query=InternalProductsQuery, response=InternalProductList)
def lookup_products(query: InternalProductsQuery) -> dict[str, Any]:
    wanted = query.id_list()
    rows = deps().catalog_reads.run(lambda connection: store.lookup_products(connection, wanted))
    found = {row.id: row for row in rows}
    return {
        "items": [{"id": str(row.id), "name": row.name, "price": row.price, "currency": row.currency,
                   "stock": row.stock, "is_active": row.is_active, "vendor_id": str(row.vendor_id)}
                  for product_id in wanted if (row := found.get(product_id)) is not None],
        "missing": [str(product_id) for product_id in wanted if product_id not in found],
    }
