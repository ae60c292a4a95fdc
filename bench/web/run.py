#!/usr/bin/env python3
"""Benchmark (not a test): the web service's catalog page and product page against the products service's
JSON listing, each under the services' own server with the same settings. See README.md."""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

from storefront_common.testing.databases import fresh_database
from storefront_common.testing.postgres import PostgresServer
from storefront_common.testing.servers import free_port
from storefront_common.testing.tokens import TEST_ISSUER

HERE = Path(__file__).resolve().parent
# The products benchmark's machinery (servers, wrk, alternating rounds, seeding), used as it is.
_spec = importlib.util.spec_from_file_location("bench_products", HERE.parent / "products" / "run.py")
assert _spec is not None and _spec.loader is not None
products_bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_products"] = products_bench  # its dataclasses look their module up
_spec.loader.exec_module(products_bench)

PAGE_SIZE = 20
LISTING_PATH = f"/api/v1/products?per_page={PAGE_SIZE}"
TARGET_THROUGHPUT_RATIO = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000, help="catalogue size")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (both servers)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (both servers)")
    parser.add_argument("--catalog-cache-seconds", type=float, default=1.0,
                        help="the products service's CATALOG_CACHE_SECONDS (its default, 1)")
    parser.add_argument("--page-cache-seconds", type=float, default=1.0,
                        help="web's PAGE_CACHE_SECONDS (its default, 1; 0 renders every page)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    with PostgresServer() as server, tempfile.TemporaryDirectory(prefix="bench-web-") as workdir, \
            fresh_database(server.admin_url, "bench_products") as products_db, \
            fresh_database(server.admin_url, "bench_web") as web_db:
        products_bench.migrate(products_db)
        started = time.monotonic()
        products_bench.seed_products(products_db, args.products)
        print(f"seeded {args.products} products in {time.monotonic() - started:.0f} s", flush=True)
        common = {"JWT_ISSUER": TEST_ISSUER, "JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json",
                  "LOG_FORMAT": "json"}
        products_env = products_bench.server_env(args, free_port(), {
            **common, "DATABASE_URL": products_db, "CATALOG_CACHE_SECONDS": str(args.catalog_cache_seconds),
            "PROMETHEUS_MULTIPROC_DIR": str(Path(workdir, "metrics-products"))})
        Path(workdir, "metrics-products").mkdir()
        Path(workdir, "metrics-web").mkdir()
        with products_bench.serve("storefront_products.wsgi:app", products_env, "/readyz") as (products_url, _):
            web_env = products_bench.server_env(args, free_port(), {
                **common, "DATABASE_URL": web_db, "AUTO_MIGRATE": "true", "PRODUCTS_URL": products_url,
                "SERVICE_CLIENT_SECRET": "bench-only", "CATALOG_PAGE_SIZE": str(PAGE_SIZE),
                "PAGE_CACHE_SECONDS": str(args.page_cache_seconds),
                "PROMETHEUS_MULTIPROC_DIR": str(Path(workdir, "metrics-web"))})
            product_id = requests.get(products_url + LISTING_PATH, timeout=10).json()["items"][0]["id"]
            with products_bench.serve("storefront_web.wsgi:app", web_env, "/readyz") as (web_url, _):
                for url in (f"{web_url}/products", f"{web_url}/products/{product_id}"):
                    page = requests.get(url, timeout=10)
                    page.raise_for_status()
                    print(f"{url}: {len(page.content)} bytes", flush=True)
                results = products_bench.load_alternately({
                    "listing": (products_url + LISTING_PATH, None),
                    "lookup": (f"{products_url}/api/v1/products/{product_id}", None),
                    "catalog": (f"{web_url}/products", None),
                    "product": (f"{web_url}/products/{product_id}", None),
                }, args)
    print(f"\n{args.products} products; server: {args.workers} workers x {args.threads} threads (both); "
          f"wrk: {args.wrk_threads} threads, {args.connections} connections, {args.rounds} x {args.duration}s "
          f"per URL (medians); products listing cache {args.catalog_cache_seconds:g} s, "
          f"web page cache {args.page_cache_seconds:g} s")
    print(f"{'what':<36}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    rows = (("JSON listing " + LISTING_PATH, "listing"), ("JSON product /api/v1/products/{id}", "lookup"),
            (f"catalog page /products ({PAGE_SIZE})", "catalog"), ("product page /products/{id}", "product"))
    for label, name in rows:
        result = results[name]
        print(f"{label:<36}{result.requests_per_second:>12.1f}{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}"
              f"{result.errors:>8}")
    listing = results["listing"]
    for name in ("catalog", "product"):
        ratio = results[name].requests_per_second / listing.requests_per_second
        verdict = "met" if ratio >= TARGET_THROUGHPUT_RATIO else "NOT met"
        print(f"{name} page / JSON listing: throughput {ratio:.2f} (target >= {TARGET_THROUGHPUT_RATIO}: {verdict}), "
              f"p99 {results[name].p99_ms / listing.p99_ms:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
