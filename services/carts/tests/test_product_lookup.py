from __future__ import annotations

import uuid

from services.carts.tests.conftest import Products, carts_settings
from storefront_carts.product_lookup import ProductLookup
from storefront_common.client import ServiceClient
from storefront_common.testing.tokens import SignedServiceTokens, TokenFactory


def test_lookups_beyond_the_products_limit_are_split(products: Products, tokens: TokenFactory,
                                                     jwks_url: str) -> None:
    settings = carts_settings("sqlite://", jwks_url, products.base_url)
    lookup = ProductLookup(ServiceClient("products", products.base_url, settings, SignedServiceTokens(tokens, "carts")))
    real = uuid.UUID(products.product("Real", price=42, stock=3))
    retired = uuid.UUID(products.product("Retired", price=1))
    products.deactivate(retired)
    products.log.clear()
    found = lookup.lookup([real, retired, *(uuid.uuid4() for _ in range(148))])
    assert len(products.log.lookups()) == 2
    assert set(found) == {real, retired}
    assert (found[real].price, found[real].stock, found[real].is_active) == (42, 3, True)
    assert found[retired].is_active is False
    products.log.clear()
    assert lookup.lookup([]) == {} and products.log.lookups() == []
