"""The shop the operator made, driven as a client drives it: every request through the Ingress."""
from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from tests.cluster.conftest import SERVICES, SHOP_NAMESPACE, STOREFRONT, Shop
from storefront_dev.shop_api import Account, Api


def make_product(shop: Shop, vendor: Account, price: int, stock: int) -> dict[str, Any]:
    category = shop.api.expect(201, "POST", "/api/v1/categories", shop.admin,
                               json={"name": f"Pantry {uuid.uuid4().hex[:6]}"})
    return shop.api.expect(201, "POST", "/api/v1/products", vendor, json={
        "name": f"Shea butter {uuid.uuid4().hex[:6]}", "price": price, "stock": stock, "category_id": category["id"]})


def add_to_cart(api: Api, customer: Account, product: dict[str, Any], quantity: int) -> None:
    api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product["id"], "quantity": quantity})


def test_the_operator_made_every_workload_and_nothing_patched_a_status(shop: Shop) -> None:
    storefront = shop.storefront()
    status = storefront["status"]
    assert status["phase"] == "Ready" and status["observedGeneration"] == storefront["metadata"]["generation"]
    assert status["url"] == shop.cluster.ingress_url
    for service in SERVICES:
        deployment = shop.cluster.get("deployment", f"{STOREFRONT}-{service}", f"--namespace={SHOP_NAMESPACE}")
        assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"] >= 1
        [owner] = deployment["metadata"]["ownerReferences"]
        assert owner["kind"] == "Storefront" and owner["name"] == STOREFRONT
        job = shop.cluster.get("jobs", f"--namespace={SHOP_NAMESPACE}",
                               f"--selector=app.kubernetes.io/component={service},storefront.dev/workload=migrate")
        assert [j["status"].get("succeeded") for j in job["items"]] == [1], f"{service} migrations"
    pods = shop.cluster.get("pods", f"--namespace={SHOP_NAMESPACE}", "--field-selector=status.phase=Running")["items"]
    running = {pod["metadata"]["labels"].get("app.kubernetes.io/component") for pod in pods}
    assert running >= {*SERVICES, "postgresql", "paystack-sim"}
    [operator] = shop.cluster.get("pods", "--namespace=storefront-system")["items"]
    assert operator["status"]["phase"] == "Running"


def test_a_customer_shops_and_pays_both_ways_and_the_vendor_is_paid(shop: Shop) -> None:
    api = shop.api
    vendor, customer = api.sign_up("vendor"), api.sign_up("customer")
    product = make_product(shop, vendor, price=150_000, stock=5)
    listing = api.expect(200, "GET", "/api/v1/products", params={"q": product["name"]})
    assert [item["id"] for item in listing["items"]] == [product["id"]]

    # Top up through the in-cluster Paystack simulator: its checkout page, then its Pay button.
    topup = api.expect(201, "POST", "/api/v1/wallet/topups", customer, json={"amount": 400_000}, key=uuid.uuid4().hex)
    assert topup["authorization_url"].startswith(f"{shop.cluster.ingress_url}/_paystack/")
    page = requests.get(topup["authorization_url"], timeout=30)
    assert page.status_code == 200 and "Pay" in page.text
    assert api.complete_paystack(topup["reference"])["webhook_status"] == 200
    assert api.wallet(customer)["balance"] == 400_000

    add_to_cart(api, customer, product, 2)
    by_wallet = api.checkout(customer, "wallet")
    assert by_wallet.status_code == 201, by_wallet.text
    wallet_order = by_wallet.json()
    assert wallet_order["status"] == "paid" and wallet_order["total"] == 300_000
    assert api.wallet(customer)["balance"] == 100_000

    add_to_cart(api, customer, product, 1)
    by_paystack = api.checkout(customer, "paystack").json()
    assert by_paystack["status"] == "pending"
    assert api.complete_paystack(by_paystack["payment"]["reference"])["webhook_status"] == 200
    assert api.expect(200, "GET", f"/api/v1/orders/{by_paystack['id']}", customer)["status"] == "paid"
    assert api.expect(200, "GET", f"/api/v1/products/{product['id']}")["stock"] == 2

    for order in (wallet_order, by_paystack):
        for status in ("shipped", "delivered"):
            moved = api.expect(200, "PATCH", f"/api/v1/orders/{order['id']}/status", vendor, json={"status": status})
            assert moved["status"] == status
    assert api.wallet(vendor)["balance"] == 450_000
    assert shop.ledger() == {"balanced": True, "violations": []}


def test_pods_stop_well_within_their_grace_period(shop: Shop) -> None:
    """PID 1 of each image acts on SIGTERM (granian for a service, kopf for the operator): a stopping pod
    takes its preStop sleep and its shutdown, not the whole grace period."""
    cluster = shop.cluster
    timings = {}
    for namespace, selector in ((SHOP_NAMESPACE, "app.kubernetes.io/component=orders,storefront.dev/workload=server"),
                                ("storefront-system", "app.kubernetes.io/name=storefront-operator")):
        [pod] = cluster.get("pods", f"--namespace={namespace}", f"--selector={selector}")["items"]
        grace = pod["spec"]["terminationGracePeriodSeconds"]
        started = time.monotonic()
        cluster.kubectl("delete", "pod", pod["metadata"]["name"], f"--namespace={namespace}", "--wait=true",
                        timeout=grace + 30)
        timings[pod["metadata"]["name"]] = (round(time.monotonic() - started, 1), grace)
    print(f"\nstop times (seconds, grace period): {timings}")
    assert all(seconds < grace / 2 for seconds, grace in timings.values()), timings
    shop.wait_ready()
