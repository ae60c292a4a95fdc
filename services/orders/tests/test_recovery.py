"""Crashes and lost answers in the middle of the saga: a retry with the same key converges on one order."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from flask import Flask

from services.orders.tests.conftest import Platform
from services.orders.tests.shop import Shop
from services.orders.tests.test_expiry import backdate, run_job
from storefront_common.client import DependencyUnavailable
from storefront_common.dependencies import current
from storefront_orders import checkout
from storefront_orders.dependencies import OrdersDependencies


class Crash(Exception):
    """Stands for the process dying at this point."""


@contextmanager
def failing_once(target: Any, name: str, make_failure: Callable[[Callable[..., Any]], Callable[..., Any]]
                 ) -> Iterator[None]:
    original = getattr(target, name)
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return make_failure(original)(*args, **kwargs)
        return original(*args, **kwargs)

    setattr(target, name, wrapper)
    try:
        yield
    finally:
        setattr(target, name, original)


def crash(original: Callable[..., Any]) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise Crash()
    return fail


def succeed_then_lose_the_answer(original: Callable[..., Any]) -> Callable[..., Any]:
    def lose(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise DependencyUnavailable("payments")
    return lose


def payments_client(app: Flask) -> Any:
    return current(OrdersDependencies, app).payments


@pytest.mark.parametrize("where", ["after reserving", "after recording"])
def test_a_crash_mid_checkout_then_a_retry_sells_the_stock_once(shop: Shop, app: Flask, where: str) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=1_000, quantity=3, funds=5_000)
    target, name = (checkout, "_record") if where == "after reserving" else (payments_client(app), "pay")

    with failing_once(target, name, crash):
        assert shop.checkout(buyer, key="crashy").status_code == 500
    assert shop.stock(product_id) == 7  # the crashed attempt's reservation is still held

    retried = shop.checkout(buyer, key="crashy")
    assert retried.status_code == 201, retried.text
    assert retried.json()["status"] == "paid"
    assert shop.stock(product_id) == 7
    assert shop.balance(buyer) == 2_000
    assert shop.get(buyer).json()["total"] == 1


def test_a_payment_whose_answer_was_lost_is_charged_once_on_retry(shop: Shop, app: Flask) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=1_000, quantity=2, funds=5_000)

    with failing_once(payments_client(app), "pay", succeed_then_lose_the_answer):
        assert shop.checkout(buyer, key="lost").status_code == 503
    assert shop.stock(product_id) == 10  # released while the outcome is unknown

    retried = shop.checkout(buyer, key="lost")
    assert retried.status_code == 201 and retried.json()["status"] == "paid"
    assert shop.balance(buyer) == 3_000
    assert shop.stock(product_id) == 8


def test_a_lost_payment_answer_never_retried_is_refunded_by_the_job(shop: Shop, app: Flask) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=1_000, quantity=2, funds=5_000)

    with failing_once(payments_client(app), "pay", succeed_then_lose_the_answer):
        response = shop.checkout(buyer, key="abandoned")
    assert response.status_code == 503
    assert shop.balance(buyer) == 3_000  # the debit went through; the client never came back
    [order] = shop.get(buyer).json()["items"]
    backdate(app, order["id"], 3600)

    assert run_job(app)["expired"] >= 1

    assert shop.get(buyer, f"/{order['id']}").json()["status"] == "cancelled"
    assert shop.balance(buyer) == 5_000
    assert shop.stock(product_id) == 10


def test_an_order_cancelled_while_its_wallet_payment_runs_gets_the_money_back(shop: Shop, app: Flask) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=1_000, quantity=2, funds=5_000)

    def cancel_first(original: Callable[..., Any]) -> Callable[..., Any]:
        def pay(body: dict[str, Any]) -> Any:
            assert shop.cancel(buyer, body["order_id"]).status_code == 200
            return original(body)
        return pay

    with failing_once(payments_client(app), "pay", cancel_first):
        response = shop.checkout(buyer)

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "cancelled" and order["payment"]["status"] == "refunded"
    assert shop.balance(buyer) == 5_000
    assert shop.stock(product_id) == 10


def test_a_cart_edited_after_a_crash_is_what_the_retry_buys(shop: Shop, platform: Platform) -> None:
    vendor = shop.user("vendor")
    buyer, product_id = shop.buyer_with_cart(vendor, price=1_000, quantity=3, funds=5_000)

    with failing_once(checkout, "_record", crash):
        assert shop.checkout(buyer, key="edited").status_code == 500
    assert shop.stock(product_id) == 7
    requests.put(f"{platform.carts.url}/api/v1/cart/items/{product_id}", json={"quantity": 1},
                 headers=buyer.headers, timeout=10).raise_for_status()

    retried = shop.checkout(buyer, key="edited")

    assert retried.status_code == 201, retried.text
    assert retried.json()["items"][0]["quantity"] == 1
    assert shop.stock(product_id) == 9
    assert shop.balance(buyer) == 4_000
