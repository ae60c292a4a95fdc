"""Faults on the real node, each with its numbers in the output (run with -s to see them):
(a) service pods deleted during a checkout load, (b) the operator deleted in the middle of a reconcile,
(c) a rolling update under steady load, (d) containerd and the kubelet restarted."""
from __future__ import annotations

import json
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.cluster.conftest import SERVICES, SHOP_NAMESPACE, STOREFRONT, Shop, cluster_cli
from storefront_dev.shop_api import Account, Api

PRICE = 10_000
STOCK = 100_000
TOP_UP = 100_000_000
RETRY_BUDGET_S = 120


@dataclass
class Tally:
    """What clients saw: every attempt, and every checkout key with the order it finally got."""
    attempts: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    orders: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> order id
    abandoned: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    first_answers: dict[str, str] = field(default_factory=dict)  # outcome -> the first body seen, for the report
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: str, seconds: float, body: str = "") -> None:
        with self.lock:
            self.attempts[outcome] += 1
            self.latencies.append(seconds)
            if not outcome.startswith("2"):
                self.first_answers.setdefault(outcome, body[:300])

    @property
    def requests(self) -> int:
        return sum(self.attempts.values())

    @property
    def failures(self) -> int:
        return sum(count for outcome, count in self.attempts.items() if not outcome.startswith("2"))

    def summary(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        rate = self.failures / self.requests if self.requests else 0.0
        return (f"requests {self.requests}, failed {self.failures} ({rate:.1%}), retries {self.retries}, "
                f"orders {len(self.orders)}, abandoned keys {len(self.abandoned)}, p95 {p95 * 1000:.0f} ms, "
                f"outcomes {dict(self.attempts)}, first answer of each failure {self.first_answers}")


def attempt(tally: Tally, send: Callable[[], requests.Response]) -> requests.Response | None:
    started = time.monotonic()
    try:
        response = send()
    except requests.RequestException as error:
        tally.record(type(error).__name__, time.monotonic() - started, str(error))
        return None
    tally.record(str(response.status_code), time.monotonic() - started, response.text)
    return response


def shopper(api: Api, customer: Account, product: dict[str, Any], tally: Tally, stop: threading.Event) -> None:
    """Add one unit, check out with a fresh key, and retry that same key until it answers 201."""
    body = {"shipping_address": {"line1": "1 Marina", "city": "Lagos", "country": "NG"}, "payment_method": "wallet"}
    while not stop.is_set():
        added = attempt(tally, lambda: api.call("POST", "/api/v1/cart/items", customer,
                                                 json={"product_id": product["id"], "quantity": 1}))
        if added is None or added.status_code != 200:
            tally.retries += 1
            time.sleep(0.5)
            continue
        key = uuid.uuid4().hex
        deadline = time.monotonic() + RETRY_BUDGET_S
        while True:
            response = attempt(tally, lambda: api.call("POST", "/api/v1/orders", customer, json=body, key=key))
            if response is not None and response.status_code == 201:
                with tally.lock:
                    tally.orders[key] = response.json()["id"]
                break
            if time.monotonic() > deadline:
                tally.abandoned.append(key)
                break
            tally.retries += 1
            time.sleep(0.5)


def run_load(api: Api, product: dict[str, Any], customers: list[Account], seconds: float,
             while_running: Callable[[threading.Event], None]) -> Tally:
    tally, stop = Tally(), threading.Event()
    workers = [threading.Thread(target=shopper, args=(api, customer, product, tally, stop)) for customer in customers]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + seconds
    while_running_stop = threading.Event()
    chaos = threading.Thread(target=while_running, args=(while_running_stop,))
    chaos.start()
    time.sleep(max(0.0, deadline - time.monotonic()))
    while_running_stop.set()
    chaos.join()
    stop.set()
    for worker in workers:
        worker.join(timeout=RETRY_BUDGET_S + 60)
    return tally


def prepare(shop: Shop, customers: int) -> tuple[dict[str, Any], list[Account]]:
    api = shop.api
    category = api.expect(201, "POST", "/api/v1/categories", shop.admin, json={"name": f"Faults {uuid.uuid4().hex[:6]}"})
    vendor = api.sign_up("vendor")
    product = api.expect(201, "POST", "/api/v1/products", vendor, json={
        "name": f"Fault widget {uuid.uuid4().hex[:6]}", "price": PRICE, "stock": STOCK, "category_id": category["id"]})
    accounts = [api.sign_up() for _ in range(customers)]
    for account in accounts:
        api.top_up(account, TOP_UP)
    return product, accounts


def all_orders(api: Api, customer: Account) -> list[dict[str, Any]]:
    orders, page = [], 1
    while True:
        listing = api.expect(200, "GET", "/api/v1/orders", customer, params={"page": page, "per_page": 100})
        orders += listing["items"]
        if page >= listing["pages"]:
            return orders
        page += 1


def server_pods(shop: Shop, service: str) -> list[dict[str, Any]]:
    return shop.cluster.get("pods", f"--namespace={SHOP_NAMESPACE}",
                            f"--selector=app.kubernetes.io/component={service},storefront.dev/workload=server")["items"]


def assert_books_and_stock_agree(shop: Shop, product: dict[str, Any], customers: list[Account], tally: Tally) -> None:
    api = shop.api
    sold = 0
    for customer in customers:
        orders = all_orders(api, customer)
        ids = [order["id"] for order in orders]
        mine = {key: order_id for key, order_id in tally.orders.items() if order_id in ids}
        paid = [order for order in orders if order["status"] == "paid"]
        # Each key got one order, and every paid order is one a client was answered for.
        assert len(set(mine.values())) == len(mine)
        assert {order["id"] for order in paid} <= set(tally.orders.values())
        assert not [order for order in orders if order["status"] == "pending"], "a checkout left a pending order"
        charged = sum(order["total"] for order in paid)
        assert api.wallet(customer)["balance"] == TOP_UP - charged, "a wallet was charged other than once per order"
        sold += sum(item["quantity"] for order in paid for item in order["items"])
    stock = api.expect(200, "GET", f"/api/v1/products/{product['id']}")["stock"]
    assert stock == STOCK - sold, f"stock {stock}, expected {STOCK - sold}: units oversold or lost"
    assert shop.ledger() == {"balanced": True, "violations": []}


def test_a_checkout_load_survives_service_pods_being_deleted(shop: Shop) -> None:
    product, customers = prepare(shop, customers=6)
    deleted: list[str] = []

    def delete_pods(stop: threading.Event) -> None:
        while not stop.wait(6):
            service = random.choice(SERVICES)
            pods = [pod for pod in server_pods(shop, service) if not pod["metadata"].get("deletionTimestamp")]
            if pods:
                name = random.choice(pods)["metadata"]["name"]
                shop.cluster.kubectl("delete", "pod", name, f"--namespace={SHOP_NAMESPACE}", "--wait=false",
                                     "--ignore-not-found")
                deleted.append(f"{service}")

    tally = run_load(shop.api, product, customers, seconds=60, while_running=delete_pods)
    print(f"\n(a) pods deleted: {len(deleted)} {Counter(deleted)}; {tally.summary()}")
    shop.wait_ready()
    assert len(deleted) >= 8
    assert tally.abandoned == [], "a client never got its order after retrying its key"
    assert len(tally.orders) > 0
    assert_books_and_stock_agree(shop, product, customers, tally)


def test_a_rolling_update_under_steady_load_fails_no_request(shop: Shop) -> None:
    product, customers = prepare(shop, customers=4)
    deployment = shop.cluster.get("deployment", f"{STOREFRONT}-products", f"--namespace={SHOP_NAMESPACE}")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    rolled = f"{image}-rollout{uuid.uuid4().hex[:4]}"
    subprocess.run(["ctr", f"--address={shop.cluster.env['CONTAINERD_ADDRESS']}", "--namespace=k8s.io", "images",
                    "tag", image, rolled], check=True, stdout=subprocess.DEVNULL)
    readers, reads = Tally(), threading.Event()

    def browse() -> None:
        while not reads.is_set():
            attempt(readers, lambda: shop.api.call("GET", "/api/v1/products", params={"per_page": 5}))

    def roll(stop: threading.Event) -> None:
        patch = {"spec": {"services": {"products": {"image": rolled}}}}
        shop.cluster.kubectl("patch", "storefront", STOREFRONT, f"--namespace={SHOP_NAMESPACE}", "--type=merge",
                             f"--patch={json.dumps(patch)}")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            pods = server_pods(shop, "products")
            images = {pod["spec"]["containers"][0]["image"] for pod in pods}
            if images == {rolled} and len(pods) == 1 and all(
                    c.get("ready") for pod in pods for c in pod["status"].get("containerStatuses", [])):
                break
            time.sleep(1)
        stop.wait(5)

    browser = threading.Thread(target=browse)
    browser.start()
    started = time.monotonic()
    tally = run_load(shop.api, product, customers, seconds=5, while_running=roll)
    reads.set()
    browser.join()
    print(f"\n(c) rollout of products in {time.monotonic() - started:.0f}s: checkouts: {tally.summary()}; "
          f"listings: {readers.summary()}")
    assert {pod["spec"]["containers"][0]["image"] for pod in server_pods(shop, "products")} == {rolled}
    assert tally.failures == 0 and readers.failures == 0
    assert_books_and_stock_agree(shop, product, customers, tally)


def test_deleting_the_operator_in_the_middle_of_a_reconcile_duplicates_nothing(shop: Shop) -> None:
    cluster = shop.cluster
    before = shop.storefront()
    old_kid = before["status"]["signingKeys"]["activeKid"]
    published_before = before["status"]["signingKeys"]["publishedKids"]
    secrets_before = {s["metadata"]["name"]: s["metadata"]["uid"] for s in cluster.get(
        "secrets", f"--namespace={SHOP_NAMESPACE}", f"--selector=storefront.dev/instance={STOREFRONT}")["items"]}
    databases_before = databases(shop)
    patch = {"metadata": {"annotations": {"storefront.dev/rotate-signing-key": uuid.uuid4().hex}},
             "spec": {"services": {"products": {"replicas": 2}}}}
    cluster.kubectl("patch", "storefront", STOREFRONT, f"--namespace={SHOP_NAMESPACE}", "--type=merge",
                    f"--patch={json.dumps(patch)}")
    time.sleep(1.0)  # the operator has picked the change up and is part-way through it
    [operator] = cluster.get("pods", "--namespace=storefront-system")["items"]
    cluster.kubectl("delete", "pod", operator["metadata"]["name"], "--namespace=storefront-system", "--grace-period=1")
    started = time.monotonic()
    wait_until(lambda: converged(shop), 300, "the new operator to converge the Storefront")
    print(f"\n(b) operator pod deleted 1.0 s into a reconcile; converged {time.monotonic() - started:.1f}s later")
    after = shop.storefront()
    keys = after["status"]["signingKeys"]
    # Exactly one new key, in front of those already published (kept for the refresh-token lifetime).
    assert keys["activeKid"] != old_kid and keys["publishedKids"] == [keys["activeKid"], *published_before], keys
    secrets_after = {s["metadata"]["name"]: s["metadata"]["uid"] for s in cluster.get(
        "secrets", f"--namespace={SHOP_NAMESPACE}", f"--selector=storefront.dev/instance={STOREFRONT}")["items"]}
    assert secrets_after == secrets_before, "a Secret was duplicated or replaced"
    assert databases(shop) == databases_before
    # The old users pod drains for its preStop sleep while the Ingress controller catches up (Traefik
    # fences a terminating endpoint once it sees it): within that, clients get the new key set.
    published = sorted(keys["publishedKids"])
    wait_until(lambda: sorted(k["kid"] for k in shop.api.expect(200, "GET", "/.well-known/jwks.json")["keys"])
               == published, 30, "the rotated key set to be served")
    cluster.kubectl("patch", "storefront", STOREFRONT, f"--namespace={SHOP_NAMESPACE}", "--type=merge",
                    '--patch={"spec": {"services": {"products": {"replicas": 1}}}}')
    wait_until(lambda: converged(shop) and not draining(shop), 300, "products back to one replica")


def test_restarting_containerd_and_the_kubelet_keeps_the_shop_and_its_data(shop: Shop) -> None:
    api = shop.api
    wait_until(lambda: not draining(shop), 120, "earlier tests' pods to finish stopping")
    product, [customer] = prepare(shop, customers=1)
    api.expect(200, "POST", "/api/v1/cart/items", customer, json={"product_id": product["id"], "quantity": 2})
    order = api.checkout(customer, "wallet").json()
    result = cluster_cli("restart", "containerd", "kubelet", timeout=180)
    assert result.returncode == 0, result.stdout
    started = time.monotonic()
    wait_until(lambda: node_ready(shop) and converged(shop), 300, "the node and the shop to come back")
    wait_until(lambda: api.call("GET", "/api/v1/products", params={"per_page": 1}).status_code == 200, 120,
               "the Ingress to answer")
    answering = time.monotonic() - started
    again = api.login(customer.email, customer.password)
    assert api.expect(200, "GET", f"/api/v1/orders/{order['id']}", again)["status"] == "paid"
    assert api.wallet(again)["balance"] == TOP_UP - order["total"]
    # `kubectl exec` goes through the restarted kubelet: it answers once the kubelet serves again.
    wait_until(lambda: shop.ledger() == {"balanced": True, "violations": []}, 60, "a balanced ledger")
    print(f"\n(d) containerd and kubelet restarted: the shop answered {answering:.1f}s later (its containers "
          f"kept running), kubectl exec worked again {time.monotonic() - started:.1f}s later; data kept")


def databases(shop: Shop) -> list[str]:
    result = shop.cluster.kubectl("exec", f"statefulset/{STOREFRONT}-postgresql", f"--namespace={SHOP_NAMESPACE}",
                                  "--", "psql", "--username=storefront", "--dbname=postgres", "--tuples-only",
                                  "--no-align", "--command=SELECT datname FROM pg_database ORDER BY 1")
    return result.stdout.split()


def converged(shop: Shop) -> bool:
    storefront = shop.storefront()
    status = storefront.get("status", {})
    ready = {c["type"]: c["status"] for c in status.get("conditions", [])}.get("Ready") == "True"
    return ready and status.get("observedGeneration") == storefront["metadata"]["generation"] and all(
        s.get("readyReplicas") == s.get("replicas") for s in status.get("services", {}).values())


def draining(shop: Shop) -> list[str]:
    """Server pods still stopping (deleted, in their preStop sleep or shutdown)."""
    pods = shop.cluster.get("pods", f"--namespace={SHOP_NAMESPACE}", "--selector=storefront.dev/workload=server")
    return [pod["metadata"]["name"] for pod in pods["items"] if pod["metadata"].get("deletionTimestamp")]


def node_ready(shop: Shop) -> bool:
    [node] = shop.cluster.get("nodes")["items"]
    return {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (AssertionError, requests.RequestException, subprocess.SubprocessError):
            pass
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")
