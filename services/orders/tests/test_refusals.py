"""Checkout tells a dependency's refusal from its outage: a refusal is the client's error, with the reason, and
leaves nothing behind; an outage is 503 with Retry-After, and the same key finishes the order later."""
from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest

from services.orders.tests.conftest import Platform
from services.orders.tests.shop import Shop, User
from storefront_common.testing.logs import captured_log

NAIRA_ONLY = "this shop sells and settles in NGN only."


@pytest.fixture()
def client_log() -> Iterator[io.StringIO]:
    """The orders service's dependency log lines, as LOG_FORMAT=text writes them."""
    with captured_log("storefront.client", "orders") as stream:
        yield stream


def cart_with_a_dollar_product(shop: Shop, vendor: User) -> tuple[User, str, str]:
    """A buyer whose cart holds a naira product and one priced while the shop sold in USD."""
    buyer, naira = shop.buyer_with_cart(vendor, price=4_000, quantity=1, funds=100_000)
    with shop.configured_in("USD", "products", "carts"):
        dollars = shop.product(vendor, price=100)
        shop.add(buyer, dollars, 2)
    return buyer, naira, dollars


def orders_of(shop: Shop, buyer: User, status: str | None = None) -> int:
    params = {"status": status} if status else {}
    return int(shop.get(buyer, **params).json()["total"])


@pytest.mark.parametrize("method", ["wallet", "paystack"])
def test_a_product_in_another_currency_is_422_with_the_reason_and_no_order_or_reservation(
        shop: Shop, method: str) -> None:
    vendor = shop.user("vendor")
    buyer, naira, dollars = cart_with_a_dollar_product(shop, vendor)

    response = shop.checkout(buyer, method, key="usd-cart")

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"].endswith(f"is priced in USD; {NAIRA_ONLY}") and dollars in problem["detail"]
    assert problem["dependency"] == "products" and problem["errors"][0]["field"] == "items"
    assert "Retry-After" not in response.headers
    assert orders_of(shop, buyer) == 0
    assert (shop.stock(naira), shop.stock(dollars)) == (10, 10) and shop.balance(buyer) == 100_000
    assert shop.checkout(buyer, method, key="usd-cart").json() == problem  # the same answer, nothing more
    assert shop.checkout(buyer, method).status_code == 422 and orders_of(shop, buyer) == 0


def test_an_item_reserved_in_another_currency_than_orders_settles_is_422_and_the_stock_comes_back(
        shop: Shop) -> None:
    vendor, buyer = shop.user("vendor"), shop.user("customer")
    shop.topup(buyer, 100_000)
    with shop.configured_in("USD", "products", "carts"):
        dollars = shop.product(vendor, price=100)
        shop.add(buyer, dollars, 2)
    with shop.configured_in("USD", "products"):  # products alone is still configured for USD
        response = shop.checkout(buyer)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["detail"].endswith(f"is priced in USD; {NAIRA_ONLY}") and "dependency" not in problem
    assert problem["errors"] == [{"field": "cart", "message": problem["detail"]}]
    assert orders_of(shop, buyer) == 0
    assert shop.stock(dollars) == 10 and shop.balance(buyer) == 100_000


@pytest.mark.parametrize("method", ["wallet", "paystack"])
def test_payments_refusing_is_422_with_its_reason_and_the_order_is_cancelled_with_its_stock_back(
        shop: Shop, client_log: io.StringIO, method: str) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=4_000, quantity=2, funds=10_000)
    request_id = f"refused-{uuid.uuid4().hex[:8]}"

    with shop.configured_in("GHS", "payments"):  # payments alone settles in GHS: it refuses naira
        response = shop.checkout(buyer, method, key="refused", request_id=request_id)
        again = shop.checkout(buyer, method, key="refused")

    assert response.status_code == 422, response.text
    problem = response.json()
    reason = "The payment is priced in NGN; this shop sells and settles in GHS only."
    assert (problem["detail"], problem["dependency"]) == (reason, "payments")
    assert problem["errors"] == [{"field": "currency", "message": reason}]
    assert again.status_code == 422 and again.json() == problem
    order = shop.get(buyer, f"/{problem['order_id']}").json()
    assert order["status"] == "cancelled" and order["payment"]["status"] == "failed"
    assert orders_of(shop, buyer, "pending") == 0 and orders_of(shop, buyer) == 1
    assert shop.stock(product_id) == 10 and shop.balance(buyer) == 10_000
    assert len(shop.cart_items(buyer)) == 1
    assert f"WARNING [{request_id}] storefront.client: dependency payments refused the request: HTTP 422: " \
           f"{reason}" in client_log.getvalue().splitlines()


def test_paystack_down_behind_payments_is_503_and_the_same_key_then_finishes_the_order(
        shop: Shop, platform: Platform, client_log: io.StringIO) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=4_000, quantity=1)

    with platform.paystack.down():  # payments answers 503: an outage, not a refusal
        response = shop.checkout(buyer, "paystack", key="paystack-down", request_id="paystack-down-1")
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0
        assert response.json()["detail"] == "The payments service is unavailable. Try again shortly."
        assert shop.stock(product_id) == 10  # released while nothing can be paid
        assert shop.get(buyer).json()["items"][0]["status"] == "pending"  # waiting for the retry

    assert "WARNING [paystack-down-1] storefront.client: dependency payments failed: HTTP 503" \
        in client_log.getvalue().splitlines()
    retried = shop.checkout(buyer, "paystack", key="paystack-down")
    assert retried.status_code == 201, retried.text
    assert retried.json()["payment"]["authorization_url"] and shop.stock(product_id) == 9
    assert orders_of(shop, buyer) == 1
