"""The Paystack simulator's checkout and outcome pages in a real browser, as a shopper meets them: pay or
decline, read one clear outcome, follow the button back to the shop's callback_url (with Paystack's
`?trxref=…&reference=…`); each page fits a phone and a desktop and passes axe-core."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, request
from playwright.sync_api import Page, expect
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from storefront_common.testing.browser import BrowserWatch, check_page
from storefront_common.testing.servers import serve_wsgi
from storefront_dev.paystack_sim import SimulatorConfig, create_app

SECRET = "sk_test_simulator_pages_0123456789"
SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your order</title>
<link rel="icon" href="data:,"></head><body><main><h1>Your order</h1><p id="reference">{reference}</p></main></body></html>"""


def shop() -> Flask:
    """The shop's side: the page Paystack sends the shopper back to."""
    app = Flask("shop")
    app.add_url_rule("/orders/<order_id>", "order",
                     lambda order_id: SHOP_PAGE.format(reference=request.args.get("reference", "")))
    return app


@dataclass
class Checkout:
    sim_url: str
    shop_url: str

    def start(self, reference: str) -> dict[str, Any]:
        response = requests.post(f"{self.sim_url}/transaction/initialize", timeout=5,
                                 headers={"Authorization": f"Bearer {SECRET}"},
                                 json={"email": "ada@example.com", "amount": 1_250_050, "reference": reference,
                                       "callback_url": f"{self.shop_url}/orders/42?from=paystack"})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def status(self, reference: str) -> str:
        return requests.get(f"{self.sim_url}/transaction/verify/{reference}", timeout=5,
                            headers={"Authorization": f"Bearer {SECRET}"}).json()["data"]["status"]


@pytest.fixture(scope="module")
def checkout() -> Iterator[Checkout]:
    simulator = create_app(SimulatorConfig(secret_key=SECRET, webhook_url=None))
    # Under a prefix, as the local gateway serves it (/_paystack).
    mounted = DispatcherMiddleware(lambda environ, start_response: [], {"/_paystack": simulator})
    with serve_wsgi(mounted) as sim_url, serve_wsgi(shop()) as shop_url:
        yield Checkout(f"{sim_url}/_paystack", shop_url)


def expect_back_to_the_shop(page: Page, checkout: Checkout, reference: str) -> None:
    page.get_by_role("link", name="Return to the shop").click()
    page.wait_for_url(f"{checkout.shop_url}/orders/42?*")
    query = urlsplit(page.url).query
    assert query == f"from=paystack&trxref={reference}&reference={reference}"
    expect(page.locator("#reference")).to_have_text(reference)


def test_pay_shows_success_and_links_back_to_the_callback(page: Page, checkout: Checkout) -> None:
    started = checkout.start("sim-page-pay")
    page.goto(started["authorization_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Complete your payment")
    expect(page.locator(".amount")).to_contain_text("12,500.50")
    check_page(page, "paystack-checkout")

    page.get_by_role("button", name="Pay NGN 12,500.50").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment successful")
    expect(page.get_by_role("status")).to_have_text("Your payment was received.")
    expect(page.locator("body")).not_to_contain_text("declined")
    expect(page.get_by_role("button")).to_have_count(0)
    assert page.url == started["authorization_url"]  # reloading it submits nothing again
    assert checkout.status("sim-page-pay") == "success"
    check_page(page, "paystack-paid")

    expect_back_to_the_shop(page, checkout, "sim-page-pay")


def test_decline_shows_declined_and_links_back_to_the_callback(page: Page, checkout: Checkout) -> None:
    started = checkout.start("sim-page-decline")
    page.goto(started["authorization_url"])
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment declined")
    expect(page.get_by_role("status")).to_have_text("Your payment was declined. No money was taken.")
    expect(page.locator("body")).not_to_contain_text("successful")
    expect(page.locator("body")).not_to_contain_text("already")
    assert checkout.status("sim-page-decline") == "failed"
    check_page(page, "paystack-declined")

    expect_back_to_the_shop(page, checkout, "sim-page-decline")


def test_revisiting_a_completed_checkout_shows_its_outcome_not_a_form(page: Page, checkout: Checkout) -> None:
    started = checkout.start("sim-page-revisit")
    page.goto(started["authorization_url"])
    page.get_by_role("button", name="Pay NGN 12,500.50").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment successful")

    page.goto("about:blank")
    page.goto(started["authorization_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment successful")
    expect(page.locator("form")).to_have_count(0)
    check_page(page, "paystack-revisited")
    expect_back_to_the_shop(page, checkout, "sim-page-revisit")


def test_a_stale_checkout_page_cannot_settle_twice(page: Page, checkout: Checkout, browser_watch: BrowserWatch) -> None:
    """The checkout open in one tab, paid in another: Decline in the first tells the outcome that stands."""
    started = checkout.start("sim-page-stale")
    page.goto(started["authorization_url"])
    other_tab = page.context.new_page()
    other_tab.goto(started["authorization_url"])
    other_tab.get_by_role("button", name="Pay NGN 12,500.50").click()
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Payment successful")

    browser_watch.expect_status(409, urlsplit(started["authorization_url"]).path + "/decline")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment successful")
    expect(page.get_by_role("status")).to_have_text(
        "Your payment was received. This payment was settled before; nothing changed.")
    expect(page.locator("body")).not_to_contain_text("declined")
    assert checkout.status("sim-page-stale") == "success"
    check_page(page, "paystack-stale")
    expect_back_to_the_shop(page, checkout, "sim-page-stale")
