"""The API's problem+json as a person reads it (the message beside its field), and money in naira."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from storefront_web.money import NotAnAmount, format_money, parse_amount

from services.web.tests.conftest import PageClient, Shopper, register


def field_error(page: str, field: str) -> str:
    found = re.search(rf'id="f-{field}-error" class="field-error">([^<]+)<', page)
    assert found, f"no message beside {field}"
    return found.group(1)


def test_a_refused_registration_shows_each_message_beside_its_field(visitor: PageClient) -> None:
    answer = register(visitor, email="not-an-email", password="short")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert field_error(page, "email") and field_error(page, "password")
    assert 'aria-invalid="true"' in page
    assert 'value="not-an-email"' in page and 'value="short"' not in page  # what was typed, but no password


def test_a_taken_email_is_said_above_the_form(visitor: PageClient, shopper: Shopper) -> None:
    other = PageClient(visitor.client.application.test_client())
    answer = register(other, email=shopper.email)
    assert answer.status_code == 409
    assert 'class="problem"' in answer.get_data(as_text=True)


def test_checkout_without_a_city_says_so_beside_the_city(shopper: Shopper, make_product: Any) -> None:
    visitor = shopper.visitor
    product = make_product()
    visitor.submit(f"/products/{product['id']}", "/cart/items", product_id=product["id"], quantity="1")
    answer = visitor.submit("/checkout", "/checkout", line1="1 Marina", country="NG", payment_method="wallet",
                            idempotency_key=uuid.uuid4().hex)
    assert answer.status_code == 422
    assert field_error(answer.get_data(as_text=True), "city")


def test_a_wallet_too_low_is_a_clear_message(shopper: Shopper, make_product: Any) -> None:
    visitor = shopper.visitor
    product = make_product(price=500_000)
    visitor.submit(f"/products/{product['id']}", "/cart/items", product_id=product["id"], quantity="1")
    answer = visitor.submit("/checkout", "/checkout", line1="1 Marina", city="Lagos", country="NG",
                            payment_method="wallet", idempotency_key=uuid.uuid4().hex)
    assert answer.status_code == 402
    assert "Your wallet balance is too low" in answer.get_data(as_text=True)


def test_more_than_the_stock_is_refused_beside_the_quantity(shopper: Shopper, make_product: Any) -> None:
    product = make_product(stock=2)
    answer = shopper.visitor.submit(f"/products/{product['id']}", "/cart/items", product_id=product["id"],
                                    quantity="5")
    assert answer.status_code == 409
    assert "not enough of this in stock" in answer.get_data(as_text=True)


def test_a_price_filter_the_api_refuses_is_shown_beside_it(visitor: PageClient) -> None:
    answer = visitor.get("/products?min=50&max=10")
    assert answer.status_code == 422
    assert field_error(answer.get_data(as_text=True), "max")
    typo = visitor.get("/products?min=abc")
    assert typo.status_code == 422 and field_error(typo.get_data(as_text=True), "min")


def test_a_wrong_password_is_one_sentence_for_both_cases(visitor: PageClient, shopper: Shopper) -> None:
    anonymous = PageClient(visitor.client.application.test_client())
    answer = anonymous.submit("/login", "/login", email=shopper.email, password="wrong password!")
    assert answer.status_code == 401
    assert "do not match an account" in answer.get_data(as_text=True)


@pytest.mark.parametrize(("minor", "shown"), [(123450, "₦1,234.50"), (5, "₦0.05"), (0, "₦0.00"),
                                              (100_000_000, "₦1,000,000.00"), (-250, "−₦2.50")])
def test_money_is_shown_in_naira_from_kobo(minor: int, shown: str) -> None:
    assert format_money(minor, "NGN") == shown


@pytest.mark.parametrize(("typed", "minor"), [("1,234.50", 123450), ("₦20", 2000), (" 7 ", 700), ("0.5", 50)])
def test_amounts_typed_in_naira_become_kobo(typed: str, minor: int) -> None:
    assert parse_amount(typed) == minor


@pytest.mark.parametrize("typed", ["", "abc", "1.234", "-5", "NaN", "1e400"])
def test_what_is_no_amount_is_refused(typed: str) -> None:
    with pytest.raises(NotAnAmount):
        parse_amount(typed)
