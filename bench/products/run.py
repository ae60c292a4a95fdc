#!/usr/bin/env python3
"""Benchmark (not a test): the products listing against a bare Flask endpoint, and the cost
of verifying a token.

Seeds a private PostgreSQL with 10,000 products, runs `GET /api/v1/products?per_page=20` and a bare app that
answers the same bytes under the same server and settings, loads each with wrk for the same
duration and prints requests/s, p50, p99 and the ratios against the targets. See README.md.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests
from flask_jwt_extended import decode_token, verify_jwt_in_request
from sqlalchemy import create_engine, insert, text

from storefront_common.migrations import upgrade
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.postgres import PostgresServer
from storefront_common.testing.servers import free_port, serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER, SigningKey, TokenFactory, jwks_app
from storefront_common.timeutil import utcnow
from storefront_products.app import create_app
from storefront_products.models import Category, Product
from storefront_products.settings import Settings

HERE = Path(__file__).resolve().parent
LISTING_PATH = "/api/v1/products?per_page=20"
TARGET_THROUGHPUT_RATIO = 0.5
TARGET_P99_RATIO = 4.0
TARGET_TOKEN_MS = 0.2
CATEGORY_NAMES = ["Phones", "Laptops", "Fashion", "Shoes", "Kitchen", "Groceries", "Beauty", "Books", "Toys",
                  "Garden"]
ADJECTIVES = ["Classic", "Premium", "Compact", "Wireless", "Organic", "Handmade", "Smart", "Vintage", "Solar",
              "Portable"]
NOUNS = ["Speaker", "Blender", "Sneakers", "Backpack", "Lamp", "Kettle", "Headphones", "Dress", "Watch", "Rice"]


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (both servers)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--token-iterations", type=int, default=5_000)
    parser.add_argument("--catalog-cache-seconds", type=float, default=1.0,
                        help="the service's CATALOG_CACHE_SECONDS (its default is 1; 0 measures every page rendered)")
    return parser.parse_args()


def seed_products(database_url: str, count: int) -> None:
    rng = random.Random(42)
    now = utcnow()
    engine = create_engine(database_url)
    with engine.begin() as connection:
        category_ids = [uuid.uuid4() for _ in CATEGORY_NAMES]
        connection.execute(insert(Category), [
            {"id": category_id, "name": name, "slug": name.lower(), "description": f"All {name.lower()}",
             "attributes": ["brand", "colour"], "created_at": now, "updated_at": now}
            for category_id, name in zip(category_ids, CATEGORY_NAMES)])
        vendors = [uuid.uuid4() for _ in range(50)]
        batch: list[dict[str, object]] = []
        for index in range(count):
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index}"
            rating_count = rng.randint(0, 40)
            rating_sum = sum(rng.randint(1, 5) for _ in range(rating_count))
            created = now - timedelta(seconds=index * 37)
            batch.append({
                "id": uuid.uuid4(), "name": name, "slug": name.lower().replace(" ", "-"),
                "description": f"{name}: a dependable choice, shipped from Lagos within 48 hours.",
                "price": rng.randint(500, 5_000_000) * 100, "currency": "NGN", "stock": rng.randint(0, 500),
                "category_id": rng.choice(category_ids), "vendor_id": rng.choice(vendors),
                "attributes": {"brand": rng.choice(["Tecno", "Oraimo", "Binatone", "Qasa"]), "colour": "black"},
                "images": [f"https://cdn.example.com/products/{index}/1.jpg"], "is_active": rng.random() > 0.05,
                "rating_sum": rating_sum, "rating_count": rating_count,
                "rating_average": rating_sum / rating_count if rating_count else 0.0,
                "created_at": created, "updated_at": created})
            if len(batch) == 1000:
                connection.execute(insert(Product), batch)
                batch = []
        if batch:
            connection.execute(insert(Product), batch)
    # A steady-state table, as autovacuum leaves it: the visibility map set, so counting is an index-only
    # scan. Right after the bulk load a single VACUUM marks few or no pages all-visible on this server
    # (asynchronous commits), so it repeats until every page is.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for _ in range(10):
            connection.execute(text("VACUUM ANALYZE products"))
            visible, pages = connection.execute(
                text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'products'")).one()
            if visible == pages:
                break
            time.sleep(0.5)
    print(f"products table: {pages} pages, {visible} all-visible after VACUUM", flush=True)
    engine.dispose()


def migrate(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, log_level="WARNING", log_format="text"))
    with app.app_context():
        upgrade(app)
        app.extensions["sqlalchemy"].engines[None].dispose()


def server_env(args: argparse.Namespace, port: int, extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(args.workers),
            "WEB_THREADS": str(args.threads), "LOG_LEVEL": "INFO", **extra}


@contextmanager
def serve(app_spec: str, env: dict[str, str], ready_path: str, *options: str) -> Iterator[str]:
    """Both servers run under the services' own server and settings; only the app differs."""
    command = [sys.executable, "-m", "storefront_common.serve", app_spec, *options]
    base_url = f"http://127.0.0.1:{env['PORT']}"
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base_url + ready_path, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {app_spec}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m)$")


def _milliseconds(value: str) -> float:
    match = _DURATION.match(value.strip())
    if match is None:
        raise ValueError(f"unreadable wrk duration: {value}")
    number, unit = float(match[1]), match[2]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, args: argparse.Namespace, duration: int) -> LoadResult:
    output = subprocess.run(
        ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--latency", url],
        capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if rate is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"unreadable wrk output:\n{output}")
    error_count = int(errors[1]) if errors else 0
    error_count += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return LoadResult(float(rate[1]), _milliseconds(percentiles["50"]), _milliseconds(percentiles["99"]), error_count)


def median_result(results: list[LoadResult]) -> LoadResult:
    return LoadResult(statistics.median(r.requests_per_second for r in results),
                      statistics.median(r.p50_ms for r in results), statistics.median(r.p99_ms for r in results),
                      sum(r.errors for r in results))


def load_alternately(urls: dict[str, str], args: argparse.Namespace) -> dict[str, LoadResult]:
    """Rounds alternate between the servers so a drift in machine load hits both alike; medians win."""
    for url in urls.values():
        run_wrk(url, args, 2)  # warm-up: connections, pools, caches
    rounds: dict[str, list[LoadResult]] = {name: [] for name in urls}
    for round_number in range(1, args.rounds + 1):
        for name, url in urls.items():
            result = run_wrk(url, args, args.duration)
            rounds[name].append(result)
            print(f"  round {round_number} {name:<8} {result.requests_per_second:8.1f} req/s  "
                  f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms", flush=True)
    return {name: median_result(results) for name, results in rounds.items()}


def token_verification_ms(iterations: int) -> tuple[float, float]:
    """Per-call cost of decoding a real RS256 token through the services' shared path (JWKS over HTTP,
    cached), alone and as the full request check `auth_required` performs."""
    key = SigningKey()
    token = TokenFactory(key, TEST_ISSUER).token(uuid.uuid4(), ["customer"], exp=utcnow() + timedelta(hours=1))
    with serve_wsgi(jwks_app([key])) as jwks_base:
        app = create_app(Settings(database_url="sqlite://", jwks_url=f"{jwks_base}/.well-known/jwks.json",
                                  jwt_issuer=TEST_ISSUER, log_level="WARNING", log_format="text"))
        with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
            verify_jwt_in_request()  # fetches the JWKS once, as the first request of a worker does
            started = time.perf_counter()
            for _ in range(iterations):
                decode_token(token)
            decode_ms = (time.perf_counter() - started) * 1000 / iterations
            started = time.perf_counter()
            for _ in range(iterations):
                verify_jwt_in_request()
            verify_ms = (time.perf_counter() - started) * 1000 / iterations
    return decode_ms, verify_ms


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    with PostgresServer() as server, tempfile.TemporaryDirectory(prefix="bench-products-") as workdir:
        with fresh_database(server.admin_url, "bench_products") as database_url:
            print(f"seeding {args.products} products ...", flush=True)
            migrate(database_url)
            seed_products(database_url, args.products)
            metrics_dir = Path(workdir, "metrics")
            metrics_dir.mkdir()
            products_env = server_env(args, free_port(), {
                "DATABASE_URL": database_url, "LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "JWT_ISSUER": TEST_ISSUER, "JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json",
                "CATALOG_CACHE_SECONDS": str(args.catalog_cache_seconds)})
            page_file = Path(workdir, "page.json")
            with serve("storefront_products.wsgi:app", products_env, "/readyz") as products_url:
                page = requests.get(products_url + LISTING_PATH, timeout=10)
                page.raise_for_status()
                page_file.write_bytes(page.content)
                print(f"listing page: {len(page.content)} bytes, total {page.json()['total']} active products",
                      flush=True)
                bare_env = server_env(args, free_port(), {"PYTHONPATH": str(HERE), "BARE_PAGE_FILE": str(page_file)})
                with serve("bare_app:create_bare_app", bare_env, LISTING_PATH, "--factory") as bare_url:
                    results = load_alternately({"products": products_url + LISTING_PATH,
                                                "bare": bare_url + LISTING_PATH,
                                                "healthz": products_url + "/healthz"}, args)
    products, bare, floor = results["products"], results["bare"], results["healthz"]
    decode_ms, verify_ms = token_verification_ms(args.token_iterations)

    print(f"\nserver: {args.workers} workers x {args.threads} threads; "
          f"wrk: {args.wrk_threads} threads, {args.connections} connections, "
          f"{args.rounds} x {args.duration}s per server (medians); "
          f"listing cache {args.catalog_cache_seconds:g} s per worker")
    print(f"{'server':<22}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    rows = (("products listing", products), ("bare constant page", bare), ("products /healthz", floor))
    for name, result in rows:
        print(f"{name:<22}{result.requests_per_second:>12.1f}{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}"
              f"{result.errors:>8}")
    print("(/healthz is the service's own floor: the same app and middleware, no database, tiny body)")
    throughput_ratio = products.requests_per_second / bare.requests_per_second
    p99_ratio = products.p99_ms / bare.p99_ms
    print(f"throughput ratio products/bare: {throughput_ratio:.2f}  (target >= {TARGET_THROUGHPUT_RATIO}: "
          f"{verdict(throughput_ratio >= TARGET_THROUGHPUT_RATIO)})")
    print(f"p99 ratio products/bare:        {p99_ratio:.2f}  (target <= {TARGET_P99_RATIO}: "
          f"{verdict(p99_ratio <= TARGET_P99_RATIO)})")
    print(f"token decode (RS256, flask_jwt_extended.decode_token): {decode_ms:.4f} ms/token "
          f"(target < {TARGET_TOKEN_MS}: {verdict(decode_ms < TARGET_TOKEN_MS)})")
    print(f"token check as auth_required runs it (verify_jwt_in_request): {verify_ms:.4f} ms/request "
          f"(target < {TARGET_TOKEN_MS}: {verdict(verify_ms < TARGET_TOKEN_MS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
