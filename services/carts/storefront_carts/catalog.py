"""The products service as the carts service sees it: one batch lookup per cart."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Collection

from flask import current_app
from pydantic import BaseModel, ConfigDict, ValidationError

from storefront_common.client import DependencyUnavailable, ServiceClient

logger = logging.getLogger("storefront.carts.catalog")
DEPENDENCY = "products"


class CatalogProduct(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    name: str
    price: int
    currency: str
    stock: int
    is_active: bool


class _LookupResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[CatalogProduct]


class Catalog:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def lookup(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CatalogProduct]:
        """The products among `ids` that the products service knows (inactive ones included if it returns them)."""
        if not ids:
            return {}
        joined = ",".join(sorted(str(product_id) for product_id in ids))
        response = self.client.get("/internal/products", params={"ids": joined})
        if response.status_code != 200:
            # A 4xx here means our request or our credentials are wrong: for the caller, products is unusable.
            logger.error("product lookup refused", extra={"status": response.status_code})
            raise DependencyUnavailable(DEPENDENCY)
        try:
            found = _LookupResponse.model_validate_json(response.content).items
        except ValidationError:
            logger.error("product lookup returned an unexpected body")
            raise DependencyUnavailable(DEPENDENCY) from None
        return {product.id: product for product in found if product.id in ids}


def catalog() -> Catalog:
    found = current_app.extensions["carts.catalog"]
    assert isinstance(found, Catalog)
    return found
