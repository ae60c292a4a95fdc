"""The shop in a real browser (Debian's Chromium, through the gateway of the suite's platform), as people use
it: clicking links and buttons, filling forms. A vendor lists a product through the console and fulfils its
order; a shopper registers, confirms the mailed link, tops the wallet up on the Paystack simulator's page,
buys by wallet, sees the order delivered and reviews it; a shopper pays an order on the simulator's page; an
admin changes a role. Every page on the way passes `check_page` (375 and 1280 px, axe-core, a screenshot);
the harness fails a test on any console error, failed request or unannounced HTTP error."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page, expect

from storefront_common.testing.browser import HEIGHT, TIMEOUT_MS, WIDTHS, BrowserWatch, check_page
from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.shop_api import Api

from services.web.tests.conftest import PASSWORD, Mailbox

PAY_BUTTON = re.compile(r"^Pay NGN ")


@contextmanager
def another_person(browser: Browser) -> Iterator[Page]:
    """A second person's browser beside the test's `page`, held to the same rules as the harness's."""
    watch = BrowserWatch()
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT}, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    watch.attach(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not watch.failures(), "the second browser ran into problems:\n  " + "\n  ".join(watch.failures())


def flash(page: Page) -> Any:
    return expect(page.locator(".flashes"))


def register(page: Page, base: str, email: str, *, vendor: bool = False, name: str = "") -> None:
    page.goto(base + "/")
    page.get_by_role("link", name="Create account").click()
    page.get_by_label("First name").fill("Ada" if not vendor else "Chidi")
    page.get_by_label("Last name").fill("Obi")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    if vendor:
        page.get_by_label("Sell (vendor account)").check()
        page.get_by_label("Business name (vendors)").fill(name)
    check_page(page, "register" if not vendor else "register-vendor")
    page.get_by_role("button", name="Create account").click()
    flash(page).to_contain_text("We have sent you an e-mail")


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    check_page(page, "login")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def pay_on_the_simulator(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Complete your payment")
    check_page(page, name)
    page.get_by_role("button", name=PAY_BUTTON).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment successful")
    page.get_by_role("link", name="Return to the shop").click()


def vendor_lists_a_product(vendor: Page, base: str, category: dict[str, Any], product_name: str) -> None:
    register(vendor, base, f"vendor-{uuid.uuid4().hex[:8]}@example.com", vendor=True, name="Obi Wares")
    vendor.get_by_role("link", name="Sell").click()
    expect(vendor.get_by_role("heading", level=1)).to_have_text("My products")
    check_page(vendor, "vendor-products-empty")
    vendor.get_by_role("link", name="Add a product").click()
    vendor.get_by_label("Category").select_option(label=category["name"])
    vendor.get_by_role("button", name="Show this category's attributes").click()
    attributes = vendor.get_by_role("group", name=f"{category['name']} attributes")
    expect(attributes).to_be_visible()
    vendor.get_by_label("Name", exact=True).fill(product_name)
    vendor.get_by_label("Description").fill("Unrefined, from Kwara.")
    vendor.get_by_label(re.compile(r"^Price")).fill("2,500.50")
    vendor.get_by_label("Items in stock").fill("12")
    attributes.get_by_label("Size").fill("500 g")
    vendor.get_by_label("Pictures (one web address per line)").fill(f"{base}/static/demo/shea-butter-500-g.svg")
    check_page(vendor, "vendor-product-new")
    vendor.get_by_role("button", name="Create the product").click()
    flash(vendor).to_have_text("Your product is on sale.")
    check_page(vendor, "vendor-product-edit")
    vendor.get_by_role("link", name="My products").click()
    expect(vendor.get_by_role("link", name=product_name)).to_be_visible()
    check_page(vendor, "vendor-products")


def test_a_vendor_lists_a_product_a_shopper_buys_it_by_wallet_sees_it_delivered_and_reviews_it(
        page: Page, browser: Browser, platform: LocalPlatform, mailbox: Mailbox, category: dict[str, Any]) -> None:
    base = platform.config.public_url
    product_name = f"Shea butter {uuid.uuid4().hex[:6]}"
    address = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    # `category` (with its attribute `size`) is the admin's, made through the API by the suite's fixture.
    with another_person(browser) as vendor:
        vendor_lists_a_product(vendor, base, category, product_name)

        page.goto(base + "/")
        check_page(page, "home")
        register(page, base, address)
        page.goto(mailbox.link_for(address, "/verify-email"))  # the link in the mail, as a mail reader opens it
        check_page(page, "verify-email")
        page.get_by_role("button", name="Confirm my address").click()
        flash(page).to_have_text("Your e-mail address is confirmed.")
        check_page(page, "account")
        page.get_by_role("button", name="Log out").click()
        flash(page).to_have_text("You are logged out.")
        log_in(page, address, PASSWORD)

        page.get_by_role("link", name="Wallet").click()
        expect(page.locator(".balance")).to_have_text("Balance ₦0.00")
        check_page(page, "wallet-empty")
        page.get_by_label(re.compile(r"^Amount")).fill("10,000")
        page.get_by_role("button", name="Top up with Paystack").click()
        pay_on_the_simulator(page, "paystack-topup")
        flash(page).to_have_text("Payment received.")
        expect(page.locator(".balance")).to_have_text("Balance ₦10,000.00")
        check_page(page, "wallet")

        page.get_by_role("search").get_by_label("Search products").fill(product_name)
        page.get_by_role("search").get_by_role("button", name="Search").click()
        expect(page.get_by_text("1 product", exact=True)).to_be_visible()
        check_page(page, "catalog-search")
        page.get_by_role("link", name=product_name).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(product_name)
        expect(page.locator(".attributes")).to_contain_text("500 g")
        check_page(page, "product")
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Add to cart").click()
        flash(page).to_have_text("Added to your cart.")
        expect(page.locator(".cart-summary")).to_contain_text("₦5,001.00")
        check_page(page, "cart")
        page.get_by_role("link", name="Check out").click()
        page.get_by_label("Address", exact=True).fill("1 Marina")
        page.get_by_label("City").fill("Lagos")
        page.get_by_label("Country code").fill("NG")
        expect(page.get_by_role("radio", name=re.compile(r"^Wallet \(balance ₦10,000.00\)"))).to_be_checked()
        check_page(page, "checkout")
        page.get_by_role("button", name="Place order · ₦5,001.00").click()
        flash(page).to_have_text("Thank you! Your order is placed.")
        expect(page.locator(".timeline .step-current")).to_contain_text("Paid")
        expect(page.get_by_text("Wallet · paid")).to_be_visible()
        check_page(page, "order-paid")
        order_url = page.url

        vendor.get_by_role("link", name="Orders to fulfil").click()
        expect(vendor.get_by_role("cell", name=re.compile(product_name))).to_be_visible()
        check_page(vendor, "vendor-orders")
        vendor.get_by_label("Show").select_option(label="All")  # orders to fulfil list paid ones only
        vendor.get_by_role("button", name="Show").click()
        vendor.get_by_role("button", name="Mark shipped").click()
        flash(vendor).to_have_text("The order is marked shipped.")
        vendor.get_by_role("button", name="Mark delivered").click()
        flash(vendor).to_have_text("The order is marked delivered.")
        expect(vendor.locator(".status")).to_have_text("Delivered")
        check_page(vendor, "vendor-orders-delivered")

        page.goto(base + "/")  # the shopper comes back later
        page.get_by_role("link", name="Orders").click()
        expect(page.locator(".status")).to_have_text("Delivered")
        check_page(page, "orders")
        page.get_by_role("link", name=product_name).click()
        assert page.url == order_url
        expect(page.locator(".timeline .step-current")).to_contain_text("Delivered")
        check_page(page, "order-delivered")
        page.get_by_role("link", name=product_name).click()
        page.get_by_label("5 ★").check()
        page.get_by_label("Comment (optional)").fill("Smooth and fresh, as described.")
        page.get_by_role("button", name="Post review").click()
        expect(page.locator(".review")).to_contain_text("Smooth and fresh, as described.")
        check_page(page, "product-reviewed")


def test_a_shopper_pays_an_order_on_the_paystack_page_and_comes_back_to_it_paid(
        page: Page, platform: LocalPlatform, make_product: Any) -> None:
    base = platform.config.public_url
    product = make_product(name=f"Palm oil {uuid.uuid4().hex[:6]}", price=120_000)  # the vendor's, by the API
    register(page, base, f"bola-{uuid.uuid4().hex[:8]}@example.com")
    page.goto(f"{base}/products/{product['id']}")  # a link to the product, as shared by a friend
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Address", exact=True).fill("2 Broad St")
    page.get_by_label("City").fill("Lagos")
    page.get_by_label("Country code").fill("NG")
    page.get_by_role("radio", name="Card or bank with Paystack").check()
    page.get_by_role("button", name="Place order · ₦1,200.00").click()
    pay_on_the_simulator(page, "paystack-order")
    flash(page).to_have_text("Payment received.")
    expect(page.locator(".timeline .step-current")).to_contain_text("Paid")
    expect(page.get_by_text("Paystack · paid")).to_be_visible()
    check_page(page, "order-paid-paystack")


def test_an_admin_makes_a_customer_a_vendor_in_the_admin_console(
        page: Page, platform: LocalPlatform, api: Api) -> None:
    base = platform.config.public_url
    # Someone registered (through the API: their own doing, not the admin's); the admin account is the one the
    # platform is installed with, as nobody can register an admin.
    somebody = api.sign_up("customer")
    page.goto(base + "/")
    log_in(page, platform.config.admin_email, platform.config.admin_password)
    page.get_by_role("link", name="Admin").first.click()  # the next one is the account's, whose first name is Admin
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    check_page(page, "admin-users")
    page.get_by_role("search", name="Search accounts").get_by_label("Search", exact=True).fill(somebody.email)
    page.get_by_role("search", name="Search accounts").get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    vendor_role = page.get_by_label(f"vendor for {somebody.email}")
    expect(vendor_role).not_to_be_checked()
    vendor_role.check()
    page.get_by_role("button", name=f"Save roles of {somebody.email}").click()
    flash(page).to_have_text(f"{somebody.email}: saved.")
    expect(page.get_by_label(f"vendor for {somebody.email}")).to_be_checked()
    expect(page.get_by_label(f"customer for {somebody.email}")).to_be_checked()
    check_page(page, "admin-users-saved")
    page.get_by_role("link", name="Categories").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Categories")
    check_page(page, "admin-categories")
    page.get_by_role("link", name="All orders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("All orders")
    check_page(page, "admin-orders")
