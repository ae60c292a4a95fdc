"""A shopper through the pages, as a visitor would go: register, confirm the e-mail, log in, fill a cart,
pay from the wallet (topped up through the Paystack simulator) or through Paystack's page, follow the order."""
from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.shop_api import Api
from storefront_web.settings import Settings

from services.web.tests.conftest import PASSWORD, PageClient, Mailbox, Shopper, register


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def transaction_of(authorization_url: str, api: Api) -> dict[str, Any]:
    """The simulator's transaction behind a checkout page."""
    access_code = urlsplit(authorization_url).path.rsplit("/", 1)[-1]
    transactions = api.expect(200, "GET", "/_paystack/_simulator/transactions")["transactions"]
    return next(txn for txn in transactions if txn["access_code"] == access_code)


def reference_of(authorization_url: str, api: Api) -> str:
    return str(transaction_of(authorization_url, api)["reference"])


def top_up(visitor: PageClient, api: Api, naira: str) -> None:
    started = visitor.submit("/wallet", "/wallet/topup", amount=naira)
    assert started.status_code == 303, started.get_data(as_text=True)[:2000]
    assert api.complete_paystack(reference_of(started.headers["Location"], api))["webhook_status"] == 200


def test_a_shopper_registers_confirms_logs_in_and_pays_an_order_from_the_wallet(
        visitor: PageClient, mailbox: Mailbox, api: Api, platform: LocalPlatform, make_product: Any) -> None:
    address = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    registered = register(visitor, email=address)
    assert registered.status_code == 303
    assert "We have sent you an e-mail" in visitor.text("/")
    link = mailbox.link_for(address, "/verify-email")
    assert link.startswith(platform.config.public_url + "/verify-email?token=")  # the shop's own page
    confirm_page = visitor.text(path_of(link))
    token = re.search(r'name="token" value="([^"]+)"', confirm_page).group(1)  # type: ignore[union-attr]
    assert visitor.submit(path_of(link), "/verify-email", token=token).status_code == 303
    assert "Your e-mail address is confirmed." in visitor.text("/account")
    assert visitor.submit("/", "/logout").status_code == 303

    logged_in = visitor.submit("/login?next=/wallet", "/login", email=address, password=PASSWORD, next="/wallet")
    assert (logged_in.status_code, logged_in.headers["Location"]) == (303, "/wallet")
    top_up(visitor, api, "10,000")
    wallet = visitor.text("/wallet")
    assert "₦10,000.00" in wallet and "Top-up" in wallet

    product = make_product(price=250_050, stock=20)
    page = visitor.text(f"/products/{product['id']}")
    assert "₦2,500.50" in page and "In stock" in page
    assert not re.search(r"\b250050\b", page), page[page.find("250050") - 200:][:400]
    added = visitor.submit(f"/products/{product['id']}", "/cart/items", product_id=product["id"], quantity="2")
    assert (added.status_code, added.headers["Location"]) == (303, "/cart")
    cart = visitor.text("/cart")
    assert product["name"] in cart and "₦5,001.00" in cart
    assert visitor.submit("/cart", f"/cart/items/{product['id']}", quantity="3").status_code == 303
    assert "₦7,501.50" in visitor.text("/cart")

    placed = visitor.submit("/checkout", "/checkout", line1="1 Marina", city="Lagos", country="NG",
                            payment_method="wallet", idempotency_key=uuid.uuid4().hex)
    assert placed.status_code == 303, placed.get_data(as_text=True)[:3000]
    order_page = visitor.text(placed.headers["Location"])
    assert "Thank you! Your order is placed." in order_page
    assert "step-current" in order_page and "Paid" in order_page and "₦7,501.50" in order_page
    assert "₦2,498.50" in visitor.text("/wallet")  # 10,000.00 - 7,501.50
    assert product["name"] in visitor.text("/orders")
    assert "Your cart is empty" in visitor.text("/cart")

    order_id = placed.headers["Location"].rsplit("/", 1)[-1]
    cancelled = visitor.submit(f"/orders/{order_id}", f"/orders/{order_id}/cancel")
    assert cancelled.status_code == 303
    assert "Cancelled" in visitor.text(f"/orders/{order_id}")
    assert "₦10,000.00" in visitor.text("/wallet")  # refunded


def test_paying_through_paystack_comes_back_to_the_order(shopper: Shopper, api: Api, make_product: Any,
                                                        platform: LocalPlatform) -> None:
    visitor = shopper.visitor
    product = make_product(price=120_000)
    visitor.submit(f"/products/{product['id']}", "/cart/items", product_id=product["id"], quantity="1")
    sent = visitor.submit("/checkout", "/checkout", line1="2 Broad St", city="Lagos", country="NG",
                          payment_method="paystack", idempotency_key=uuid.uuid4().hex)
    assert sent.status_code == 303
    payment_page = sent.headers["Location"]
    assert payment_page.startswith(f"{platform.config.public_url}/_paystack/")
    transaction = transaction_of(payment_page, api)
    assert transaction["callback_url"] == f"{platform.config.public_url}/payments/callback"  # back to the shop
    reference = transaction["reference"]
    assert api.complete_paystack(reference)["webhook_status"] == 200
    back = visitor.get(f"/payments/callback?trxref={reference}&reference={reference}")
    assert back.status_code == 303 and back.headers["Location"].startswith("/orders/")
    shown = visitor.text(back.headers["Location"])
    assert "Payment received." in shown and "₦1,200.00" in shown and "Paystack" in shown


def test_the_mailed_password_reset_link_works(shopper: Shopper, mailbox: Mailbox, app: Any) -> None:
    visitor = PageClient(app.test_client())
    assert visitor.submit("/forgot-password", "/forgot-password", email=shopper.email).status_code == 303
    link = path_of(mailbox.link_for(shopper.email, "/reset-password"))
    token = re.search(r'name="token" value="([^"]+)"', visitor.text(link)).group(1)  # type: ignore[union-attr]
    assert visitor.submit(link, "/reset-password", token=token, new_password="a brand new secret").status_code == 303
    assert visitor.submit("/login", "/login", email=shopper.email, password="a brand new secret").status_code == 303
    again = visitor.submit(link, "/reset-password", token=token, new_password="another new secret")
    assert "not valid any more" in again.get_data(as_text=True)


def test_the_catalog_searches_filters_sorts_and_pages_with_cursors(visitor: PageClient, make_product: Any,
                                                                  settings: Settings) -> None:
    settings.catalog_page_size = 4
    word = uuid.uuid4().hex[:8]
    for index, price in enumerate([100_000, 200_000, 300_000] * 3):
        make_product(name=f"Lamp {word} {index:02d}", price=price)
    first = visitor.text(f"/products?q={word}&sort=price&max=2500")
    assert "6 products" in first and "₦3,000.00" not in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert "cursor=" in next_link and "page=" not in next_link
    second = visitor.text(next_link)
    assert 'rel="prev"' in second and "₦2,000.00" in second and "₦1,000.00" not in second
    assert 'rel="next"' not in second
