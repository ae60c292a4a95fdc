"""Who sees which orders: mine, vendor and all scopes, and 404 for anyone else's order."""
from __future__ import annotations

from services.orders.tests.shop import Shop
from storefront_common.testing.servers import HttpClient
from storefront_common.testing.tokens import Auth


def test_scopes_and_who_may_read_an_order(shop: Shop, client: HttpClient, auth: Auth) -> None:
    vendor, stranger_vendor = shop.user("vendor"), shop.user("vendor")
    buyer, _ = shop.buyer_with_cart(vendor, quantity=1, funds=5_000)
    order = shop.checkout(buyer).json()
    other_buyer, _ = shop.buyer_with_cart(vendor, quantity=1)
    pending = shop.checkout(other_buyer, "paystack").json()
    admin = shop.admin()

    mine = shop.get(buyer).json()
    assert [item["id"] for item in mine["items"]] == [order["id"]]
    assert mine["page"] == 1 and mine["per_page"] == 20 and mine["total"] == 1 and mine["pages"] == 1

    as_vendor = shop.get(vendor, scope="vendor").json()
    assert {item["id"] for item in as_vendor["items"]} == {order["id"], pending["id"]}
    assert [item["id"] for item in shop.get(vendor, scope="vendor", status="pending").json()["items"]] == \
        [pending["id"]]
    assert shop.get(stranger_vendor, scope="vendor").json()["total"] == 0
    page = shop.get(vendor, scope="vendor", per_page=1, page=2).json()
    assert page["total"] == 2 and page["pages"] == 2 and len(page["items"]) == 1

    everything = shop.get(admin, scope="all", per_page=100).json()
    assert {order["id"], pending["id"]} <= {item["id"] for item in everything["items"]}

    assert shop.get(buyer, scope="vendor").status_code == 403
    assert shop.get(buyer, scope="all").status_code == 403
    assert shop.get(vendor, scope="all").status_code == 403
    assert shop.get(buyer, scope="everything").status_code == 422
    assert shop.get(buyer, status="lost").status_code == 422
    assert shop.get(buyer, per_page=101).status_code == 422

    for allowed in (buyer, vendor, admin):
        assert shop.get(allowed, f"/{order['id']}").status_code == 200
    for stranger in (other_buyer, stranger_vendor):
        response = shop.get(stranger, f"/{order['id']}")
        assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"
    assert shop.get(buyer, "/00000000-0000-4000-8000-000000000000").status_code == 404
    assert shop.get(buyer, "/not-a-uuid").status_code == 404
    assert client.get("/api/v1/orders", timeout=10).status_code == 401
    service = client.get("/api/v1/orders", headers=auth.service("payments"), timeout=10)
    assert service.status_code == 403
