"""The vendor console (a product created with its category's attributes, an order shipped and delivered)
and the admin console (a role changed, a category created), through the pages."""
from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask

from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.shop_api import Api

from services.web.tests.conftest import PageClient, register


def test_a_vendor_lists_a_product_and_fulfils_its_order(app: Flask, api: Api, category: dict[str, Any]) -> None:
    vendor = PageClient(app.test_client())
    assert register(vendor, role="vendor", business_name="Obi Wares").status_code == 303
    form = vendor.text(f"/vendor/products/new?category_id={category['id']}")
    assert 'name="attribute_size"' in form  # the category's attributes are the form's fields
    created = vendor.submit("/vendor/products/new", "/vendor/products/new", category_id=category["id"],
                            name="Palm oil 1L", description="Red, unrefined", price="1,500.50", stock="4",
                            attribute_size="1L", images="", is_active="1")
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    product_id = created.headers["Location"].rsplit("/", 1)[-1]
    product = api.expect(200, "GET", f"/api/v1/products/{product_id}")
    assert (product["price"], product["stock"], product["attributes"]) == (150_050, 4, {"size": "1L"})
    assert "Palm oil 1L" in vendor.text("/vendor")
    assert vendor.submit(f"/vendor/products/{product_id}", f"/vendor/products/{product_id}/stock",
                         new_stock="9").status_code == 303
    assert api.expect(200, "GET", f"/api/v1/products/{product_id}")["stock"] == 9
    refused = vendor.submit(f"/vendor/products/{product_id}", f"/vendor/products/{product_id}",
                            category_id=category["id"], name="", price="12", is_active="1")
    assert refused.status_code == 422 and 'id="f-name-error"' in refused.get_data(as_text=True)

    customer = api.sign_up("customer")
    api.top_up(customer, 500_000)
    api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product_id, "quantity": 2})
    order = api.checkout(customer, "wallet").json()
    assert order["status"] == "paid"
    to_fulfil = vendor.text("/vendor/orders")
    assert order["id"][:8] in to_fulfil and "Mark shipped" in to_fulfil
    for status in ("shipped", "delivered"):
        moved = vendor.submit("/vendor/orders?status=all", f"/vendor/orders/{order['id']}/status", status=status,
                              back="/vendor/orders?status=all")
        assert moved.status_code == 303
    assert api.expect(200, "GET", f"/api/v1/orders/{order['id']}", customer)["status"] == "delivered"
    assert "Sale paid out to you" in vendor.text("/wallet")
    assert "₦3,001.00" in vendor.text("/wallet")

    refused = vendor.submit("/wallet", "/wallet/payout-account", account_number="123", bank_code="058")
    assert refused.status_code == 422 and 'id="f-account_number-error"' in refused.get_data(as_text=True)
    assert vendor.submit("/wallet", "/wallet/payout-account", account_number="0123456789",
                         bank_code="058").status_code == 303
    too_much = vendor.submit("/wallet", "/wallet/payouts", amount="5,000")
    assert too_much.status_code == 402 and "lower than that amount" in too_much.get_data(as_text=True)
    assert vendor.submit("/wallet", "/wallet/payouts", amount="1,000").status_code == 303
    wallet = vendor.text("/wallet")
    assert "Payout to bank" in wallet and "₦2,001.00" in wallet


def test_an_admin_changes_a_role_and_creates_a_category(app: Flask, api: Api, platform: LocalPlatform) -> None:
    admin = PageClient(app.test_client())
    assert admin.submit("/login", "/login", email=platform.config.admin_email,
                        password=platform.config.admin_password).status_code == 303
    somebody = api.sign_up("customer")
    listed = admin.text(f"/admin/users?q={somebody.email}")
    assert somebody.email in listed
    changed = admin.submit(f"/admin/users?q={somebody.email}", f"/admin/users/{somebody.id}", change="roles",
                           role_customer="1", role_vendor="1", back=f"/admin/users?q={somebody.email}")
    assert changed.status_code == 303
    assert "saved" in admin.text(changed.headers["Location"])
    roles = api.expect(200, "GET", "/api/v1/users", api.login(platform.config.admin_email,
                                                              platform.config.admin_password),
                       params={"q": somebody.email})["items"][0]["roles"]
    assert sorted(roles) == ["customer", "vendor"]
    name = f"Garden {uuid.uuid4().hex[:6]}"
    assert admin.submit("/admin/categories", "/admin/categories", name=name, description="",
                        attributes="colour, size").status_code == 303
    assert name in admin.text("/admin/categories")
    assert re.search(r"colour, size", admin.text("/admin/categories"))


def test_a_customer_is_not_shown_the_consoles(visitor: PageClient, shopper: Any) -> None:
    for page in ("/vendor", "/vendor/orders", "/admin/users", "/admin/categories", "/admin/orders"):
        assert visitor.get(page).status_code == 403
