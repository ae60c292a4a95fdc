"""The products service as the carts service sees it: one batch lookup per cart."""
from __future__ import annotations

import uuid
from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, ValidationError

from storefront_common.client import ServiceClient, malformed_answer, unusable_answer

DEPENDENCY = "products"
MAX_IDS_PER_CALL = 100  # the products service's limit for one batch lookup


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


class ProductLookup:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def lookup(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CatalogProduct]:
        """The products among `ids` that the products service knows (inactive ones included).

        A cart holds at most CART_MAX_LINES (<= 100) products, so a cart view is one call; only adding a
        new product to a full cart can need a second one.
        """
        wanted = sorted(set(ids), key=str)
        found: dict[uuid.UUID, CatalogProduct] = {}
        for start in range(0, len(wanted), MAX_IDS_PER_CALL):
            found.update(self._lookup_batch(wanted[start:start + MAX_IDS_PER_CALL]))
        return found

    def _lookup_batch(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, CatalogProduct]:
        response = self.client.get("/internal/products", params={"ids": ",".join(map(str, ids))})
        if response.status_code != 200:
            # The lookup is ours alone (ids the cart holds or the path names): a refusal means our request or
            # our credentials are wrong, so for the caller products is unusable, not the caller mistaken.
            raise unusable_answer(DEPENDENCY, response, "refused the product lookup")
        try:
            items = _LookupResponse.model_validate_json(response.content).items
        except ValidationError:
            raise malformed_answer(DEPENDENCY, response) from None
        asked = set(ids)
        return {product.id: product for product in items if product.id in asked}

