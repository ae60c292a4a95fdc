#!/usr/bin/env python3
"""Benchmark (not a test): the products listing against a bare Flask endpoint, and the cost
of verifying a token.

Loads a private PostgreSQL with a generated catalogue (10,000 products, or each `--products` size), runs
`GET /api/v1/products?per_page=20` (or, with `--mix`, many distinct listing URLs, cache off) and a bare app
that answers the same bytes under the same server and settings, loads each with wrk for the same duration
and prints requests/s, p50, p99, the ratios against the targets and the service's memory. See README.md.
"""
from __future__ import annotations

import argparse
import os
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
from sqlalchemy import create_engine, text

from storefront_common.migrations import upgrade
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.postgres import PostgresServer
from storefront_common.testing.servers import free_port, serve_wsgi
from storefront_common.testing.tokens import TEST_ISSUER, SigningKey, TokenFactory, jwks_app
from storefront_common.timeutil import utcnow
from storefront_products.app import create_app
from storefront_products.catalog_generator import BRANDS, NOUNS, CatalogSize
from storefront_products.settings import Settings
from storefront_products.store import load_catalog

HERE = Path(__file__).resolve().parent
LISTING_PATH = "/api/v1/products?per_page=20"
TARGET_THROUGHPUT_RATIO = 0.5
TARGET_P99_RATIO = 4.0
TARGET_TOKEN_MS = 0.2
SORTS = ["-created_at", "created_at", "name", "-name", "price", "-price", "rating", "-rating"]
PRICE_RANGES = [(100_000, 500_000), (1_000_000, 5_000_000), (20_000_000, 30_000_000)]
TYPOS = ["hedphones", "blendr", "sneekers", "laptp", "genrator", "refrigirator", "mattres"]
CURSOR_WALKS = 3  # next links followed from each first page of the mix


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, nargs="+", default=[10_000],
                        help="catalogue sizes, each measured on a fresh database and printed side by side")
    parser.add_argument("--mix", action="store_true",
                        help="the realistic mix: many distinct URLs (pages, cursors, sorts, filters, searches)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (both servers)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--token-iterations", type=int, default=5_000)
    parser.add_argument("--catalog-cache-seconds", type=float, default=None,
                        help="the service's CATALOG_CACHE_SECONDS (default: 1, the service's own, or 0 with "
                             "--mix; 0 measures every page rendered)")
    args = parser.parse_args()
    if args.catalog_cache_seconds is None:
        args.catalog_cache_seconds = 0.0 if args.mix else 1.0
    return args


def seed_products(database_url: str, count: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        load_catalog(connection, CatalogSize(products=count), utcnow())
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
def serve(app_spec: str, env: dict[str, str], ready_path: str, *options: str) -> Iterator[tuple[str, int]]:
    """Both servers run under the services' own server and settings; only the app differs. Yields the base URL
    and the server's process id."""
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
        yield base_url, process.pid
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


def run_wrk(url: str, args: argparse.Namespace, duration: int, paths_file: Path | None) -> LoadResult:
    """One wrk run on `url`, or on each path of `paths_file` in turn (mix.lua) against its host."""
    script = ["-s", str(HERE / "mix.lua")] if paths_file is not None else []
    env = {**os.environ, "MIX_PATHS": str(paths_file)} if paths_file is not None else None
    output = subprocess.run(
        ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--latency", *script, url],
        capture_output=True, text=True, check=True, env=env).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))  # "1.27s " has a trailing space
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


def load_alternately(urls: dict[str, tuple[str, Path | None]],
                      args: argparse.Namespace) -> dict[str, LoadResult]:
    """Rounds alternate between the servers so a drift in machine load hits both alike; medians win.
    `urls`: per name, the URL and the paths file of a mix (None: the URL alone)."""
    for url, paths_file in urls.values():
        run_wrk(url, args, 2, paths_file)  # warm-up: connections, pools, caches
    rounds: dict[str, list[LoadResult]] = {name: [] for name in urls}
    for round_number in range(1, args.rounds + 1):
        for name, (url, paths_file) in urls.items():
            result = run_wrk(url, args, args.duration, paths_file)
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


def mix_paths(products_url: str) -> list[str]:
    """Many distinct listing URLs as shoppers send them: page numbers, every sort, categories, price ranges,
    stock, vendors, searches (words, pairs, typos), and the pages behind `next` cursors where the service
    gives them (the code before cursors runs the rest of the mix)."""
    base = "/api/v1/products?per_page=20"
    listing = requests.get(products_url + base, timeout=10).json()
    vendors = list(dict.fromkeys(item["vendor_id"] for item in listing["items"]))[:5]
    categories = [item["slug"] for item in requests.get(products_url + "/api/v1/categories", timeout=10).json()["items"]]
    terms = [noun.lower() for noun in NOUNS[::6]] + [brand.lower() for brand in BRANDS[::6]]
    terms += ["wireless speaker", "stainless kettle", "samsung phone", "leather handbag", *TYPOS]
    firsts = [f"{base}&sort={sort}" for sort in SORTS] + [f"{base}&category={slug}" for slug in categories[:3]]
    firsts += [f"{base}&q={requests.utils.quote(term)}" for term in terms[:4]]
    paths = [f"{base}&page={page}" for page in range(1, 31)]
    paths += [f"{base}&sort={sort}&page={page}" for sort in SORTS for page in range(1, 6)]
    paths += [f"{base}&category={slug}&sort={sort}{page}" for slug in categories[:10]
              for sort in ("-created_at", "price", "-rating") for page in ("", "&page=2")]
    paths += [f"{base}&min_price={low}&max_price={high}&sort={sort}" for low, high in PRICE_RANGES
              for sort in ("price", "-created_at")]
    paths += [f"{base}&in_stock=true", f"{base}&in_stock=false", f"{base}&in_stock=true&sort=price"]
    paths += [f"{base}&vendor_id={vendor}" for vendor in vendors]
    paths += [f"{base}&q={requests.utils.quote(term)}{extra}" for term in terms
              for extra in ("", "&sort=price", "&page=2")]
    paths += [f"{base}&q={requests.utils.quote(term)}&category={slug}" for term in terms[:4]
              for slug in categories[:2]]
    for first in firsts:
        page = requests.get(products_url + first, timeout=10).json()
        for _ in range(CURSOR_WALKS):
            if not page.get("next"):
                break
            paths.append(page["next"])
            page = requests.get(products_url + page["next"], timeout=10).json()
    return paths


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the server and its workers), in MB."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        total_kb += int(re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)[1])  # type: ignore[index]
        pending.extend(int(child) for child in children)
    return total_kb / 1024


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


@dataclass(frozen=True)
class SizeResult:
    products: int
    results: dict[str, LoadResult]
    distinct_urls: int
    rss_before_mb: float
    rss_after_mb: float


def measure(server: PostgresServer, args: argparse.Namespace, products: int, workdir: str) -> SizeResult:
    with fresh_database(server.admin_url, f"bench_products_{products}") as database_url:
        print(f"seeding {products} products ...", flush=True)
        started = time.monotonic()
        migrate(database_url)
        seed_products(database_url, products)
        print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
        metrics_dir = Path(workdir, f"metrics-{products}")
        metrics_dir.mkdir()
        products_env = server_env(args, free_port(), {
            "DATABASE_URL": database_url, "LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "JWT_ISSUER": TEST_ISSUER, "JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json",
            "CATALOG_CACHE_SECONDS": str(args.catalog_cache_seconds)})
        page_file = Path(workdir, f"page-{products}.json")
        with serve("storefront_products.wsgi:app", products_env, "/readyz") as (products_url, products_pid):
            rss_before = tree_rss_mb(products_pid)
            page = requests.get(products_url + LISTING_PATH, timeout=10)
            page.raise_for_status()
            page_file.write_bytes(page.content)
            print(f"listing page: {len(page.content)} bytes, total {page.json()['total']} active products",
                  flush=True)
            paths_file = None
            distinct = 1
            if args.mix:
                paths = mix_paths(products_url)
                distinct = len(set(paths))
                paths_file = Path(workdir, f"mix-{products}.txt")
                paths_file.write_text("\n".join(paths) + "\n")
                print(f"mix: {len(paths)} paths, {distinct} distinct "
                      f"({sum('cursor=' in path for path in paths)} with a cursor)", flush=True)
            bare_env = server_env(args, free_port(), {"PYTHONPATH": str(HERE), "BARE_PAGE_FILE": str(page_file)})
            with serve("bare_app:create_bare_app", bare_env, LISTING_PATH, "--factory") as (bare_url, _):
                path = "/" if paths_file is not None else LISTING_PATH
                results = load_alternately({"products": (products_url + path, paths_file),
                                            "bare": (bare_url + path, paths_file),
                                            "healthz": (products_url + "/healthz", None)}, args)
            rss_after = tree_rss_mb(products_pid)
    return SizeResult(products, results, distinct, rss_before, rss_after)


def print_size(size: SizeResult, args: argparse.Namespace) -> None:
    products, bare, floor = size.results["products"], size.results["bare"], size.results["healthz"]
    workload = f"mix of {size.distinct_urls} distinct URLs" if args.mix else LISTING_PATH
    print(f"\n{size.products} products; {workload}; products service RSS {size.rss_before_mb:.0f} MB before load, "
          f"{size.rss_after_mb:.0f} MB after")
    print(f"{'server':<22}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    rows = (("products listing", products), ("bare constant page", bare), ("products /healthz", floor))
    for name, result in rows:
        print(f"{name:<22}{result.requests_per_second:>12.1f}{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}"
              f"{result.errors:>8}")
    throughput_ratio = products.requests_per_second / bare.requests_per_second
    p99_ratio = products.p99_ms / bare.p99_ms
    print(f"throughput ratio products/bare: {throughput_ratio:.2f}  (target >= {TARGET_THROUGHPUT_RATIO}: "
          f"{verdict(throughput_ratio >= TARGET_THROUGHPUT_RATIO)})")
    print(f"p99 ratio products/bare:        {p99_ratio:.2f}  (target <= {TARGET_P99_RATIO}: "
          f"{verdict(p99_ratio <= TARGET_P99_RATIO)})")


def print_side_by_side(sizes: list[SizeResult]) -> None:
    smallest = sizes[0]
    print(f"\n{'products':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'bare req/s':>12}{'ratio':>7}"
          f"{'p50 vs first':>14}{'p99 vs first':>14}{'RSS MB':>14}")
    for size in sizes:
        products, bare = size.results["products"], size.results["bare"]
        print(f"{size.products:>10}{products.requests_per_second:>10.0f}{products.p50_ms:>9.2f}"
              f"{products.p99_ms:>9.2f}{bare.requests_per_second:>12.0f}"
              f"{products.requests_per_second / bare.requests_per_second:>7.2f}"
              f"{products.p50_ms / smallest.results['products'].p50_ms:>13.2f}x"
              f"{products.p99_ms / smallest.results['products'].p99_ms:>13.2f}x"
              f"{size.rss_before_mb:>7.0f}->{size.rss_after_mb:.0f}")
    print("(target: p50 and p99 at the largest size within 2x of the smallest; RSS flat)")


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    with PostgresServer() as server, tempfile.TemporaryDirectory(prefix="bench-products-") as workdir:
        sizes = [measure(server, args, products, workdir) for products in args.products]
    decode_ms, verify_ms = token_verification_ms(args.token_iterations)

    print(f"\nserver: {args.workers} workers x {args.threads} threads; "
          f"wrk: {args.wrk_threads} threads, {args.connections} connections, "
          f"{args.rounds} x {args.duration}s per server (medians); "
          f"listing cache {args.catalog_cache_seconds:g} s per worker")
    print("(/healthz is the service's own floor: the same app and middleware, no database, tiny body)")
    for size in sizes:
        print_size(size, args)
    if len(sizes) > 1:
        print_side_by_side(sizes)
    print(f"token decode (RS256, flask_jwt_extended.decode_token): {decode_ms:.4f} ms/token "
          f"(target < {TARGET_TOKEN_MS}: {verdict(decode_ms < TARGET_TOKEN_MS)})")
    print(f"token check as auth_required runs it (verify_jwt_in_request): {verify_ms:.4f} ms/request "
          f"(target < {TARGET_TOKEN_MS}: {verdict(verify_ms < TARGET_TOKEN_MS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
