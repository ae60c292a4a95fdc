"""Checkout benchmark: virtual users doing add-to-cart + wallet checkout through the gateway.

All five services run under gunicorn on PostgreSQL behind the local gateway, as `make up` runs them
(but on PostgreSQL). Prints checkouts/s and p50/p95/p99 latency of one add-to-cart + checkout pair at
each concurrency level. Not a test: it prints numbers and never fails on them.

    make bench-checkout            # or: .venv/bin/python bench/checkout/run.py --seconds 20 --users 4 16 32
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
from api import Account, Api  # noqa: E402

from storefront_common.testing.databases import fresh_database  # noqa: E402
from storefront_common.testing.postgres import PostgresServer  # noqa: E402
from storefront_common.testing.servers import free_port  # noqa: E402
from storefront_dev.runner.config import LocalConfig  # noqa: E402
from storefront_dev.runner.platform import LocalPlatform  # noqa: E402
from storefront_dev.runner.routes import SERVICES  # noqa: E402

PRICE = 1_000
WALLET = 100_000_000
CHECKOUT = {"shipping_address": {"line1": "1 Marina", "city": "Lagos", "country": "NG"}, "payment_method": "wallet"}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def prepare(api: Api, users: int) -> tuple[dict, list[Account]]:  # type: ignore[type-arg]
    admin = api.login(os.environ.get("STOREFRONT_ADMIN_EMAIL", "admin@storefront.local"),
                      os.environ.get("STOREFRONT_ADMIN_PASSWORD", "storefront-admin"))
    category = api.expect(201, "POST", "/api/v1/categories", admin, json={"name": f"Bench {uuid.uuid4().hex[:6]}"})
    vendor = api.sign_up("vendor")
    product = api.expect(201, "POST", "/api/v1/products", vendor,
                         json={"name": "Bench widget", "price": PRICE, "stock": 1_000_000,
                               "category_id": category["id"]})
    customers = [api.sign_up() for _ in range(users)]
    for customer in customers:
        api.top_up(customer, WALLET)
    return product, customers


class VirtualUser:
    """One customer on one keep-alive connection. urllib3 rather than `requests`: the load generator
    shares the platform's two cores, and every millisecond it spends is taken from the services."""

    def __init__(self, base_url: str, customer: Account) -> None:
        self.pool = urllib3.connection_from_url(base_url, maxsize=1, retries=False, timeout=60.0)
        self.headers = {**customer.headers, "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> urllib3.BaseHTTPResponse:
        headers = {**self.headers, "Idempotency-Key": key} if key else self.headers
        return self.pool.urlopen("POST", path, body=json.dumps(body).encode(), headers=headers)

    def add_to_cart_and_check_out(self, product_id: str) -> tuple[int, int, bytes]:
        added = self.post("/api/v1/cart/items", {"product_id": product_id, "quantity": 1})
        ordered = self.post("/api/v1/orders", CHECKOUT, key=uuid.uuid4().hex)
        return added.status, ordered.status, ordered.data


def virtual_user(api: Api, customer: Account, product_id: str, stop_at: float,
                 latencies: list[float], errors: list[str]) -> None:
    user = VirtualUser(api.base_url, customer)
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        added, ordered, body = user.add_to_cart_and_check_out(product_id)
        elapsed = time.perf_counter() - started
        if added != 200 or ordered != 201:
            errors.append(f"{added}/{ordered}: {body[:120]!r}")
        else:
            latencies.append(elapsed)


def run_level(api: Api, product: dict, customers: list[Account], seconds: float) -> None:  # type: ignore[type-arg]
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=virtual_user, args=(api, c, product["id"], stop_at, latencies, errors))
               for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ms = [value * 1000 for value in latencies]
    print(f"{len(customers):>5} users  {len(latencies) / seconds:8.1f} checkouts/s  "
          f"p50 {percentile(ms, 0.50):7.1f} ms  p95 {percentile(ms, 0.95):7.1f} ms  "
          f"p99 {percentile(ms, 0.99):7.1f} ms  mean {statistics.fmean(ms) if ms else float('nan'):7.1f} ms  "
          f"errors {len(errors)}", flush=True)
    for error in errors[:3]:
        print(f"       e.g. {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, nargs="+", default=[4, 16, 32])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per service")
    args = parser.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(PostgresServer())
        urls = {name: stack.enter_context(fresh_database(server.admin_url, f"bench_{name}")) for name in SERVICES}
        config = LocalConfig(port=free_port(), data_dir=Path(stack.enter_context(tempfile.TemporaryDirectory())),
                             seed_demo=False, database_urls=urls, workers=args.workers,
                             job_interval_seconds=3600, extra_env={"LOG_LEVEL": "WARNING"})
        stack.enter_context(LocalPlatform(config, dict(os.environ)))
        api = Api(config.public_url)
        product, customers = prepare(api, max(args.users))
        print(f"platform: 5 services x {args.workers} gunicorn workers (gthread), PostgreSQL, "
              f"{os.cpu_count()} cores; {args.seconds:.0f} s per level; one sample = add-to-cart + checkout")
        for users in args.users:
            run_level(api, product, customers[:users], args.seconds)


if __name__ == "__main__":
    main()
