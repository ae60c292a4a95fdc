#!/usr/bin/env python3
"""Benchmark (not a test): the listing's main query shapes, in-process, at one catalogue size.

Loads a private PostgreSQL with the generated catalogue (as `run.py` does), then for each shape asks as the
route does (the planner's estimate decides whether the total is counted, up to CATALOG_EXACT_TOTAL_LIMIT) and
prints the median of `--runs` warm calls of `store.listing_page`, the matches, and the executed plan: its
nodes, and how many products rows it touched (returned or removed by a filter or recheck).

    .venv/bin/python bench/products/shapes.py --products 1000000
"""
from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import create_engine

from run import migrate, seed_products  # type: ignore[import-not-found]  # bench/products/run.py, beside this
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.postgres import PostgresServer
from storefront_products import store
from storefront_products.schemas import ProductQuery

SHAPES = ["", "sort=price", "sort=-rating", "page=30", "category=phones&sort=price", "min_price=100000&max_price=900000",
          "in_stock=true&sort=-created_at", "q=headphones", "q=samsung", "q=black", "q=wireless%20speaker",
          "q=headphones&sort=price", "q=black&sort=-price", "q=hedphones", "q=hedphones&sort=price",
          "q=zzzzqqq&sort=-created_at", "q=samsung%20kettle&category=kitchen"]
EXACT_LIMIT = 10_000


def _rows_read(plan: dict[str, Any]) -> int:
    own = 0
    if plan.get("Relation Name") == "products":
        own = plan.get("Actual Loops", 1) * (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                                             + plan.get("Rows Removed by Index Recheck", 0))
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


def _nodes(plan: dict[str, Any], depth: int = 0) -> list[str]:
    name = plan["Node Type"] + (f" on {plan['Index Name']}" if "Index Name" in plan else
                                f" on {plan['Relation Name']}" if "Relation Name" in plan else "")
    line = f"{'  ' * depth}{name} (rows {plan.get('Actual Rows')}, {plan.get('Actual Total Time', 0):.2f} ms)"
    return [line, *(node for child in plan.get("Plans", []) for node in _nodes(child, depth + 1))]


def measure(connection: Any, shape: str, runs: int) -> None:
    query = ProductQuery.model_validate(dict(parse_qsl(shape)))
    count_up_to = EXACT_LIMIT if store.estimated_total(connection, query, False) <= EXACT_LIMIT else None
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        listed = store.listing_page(connection, query, None, count_up_to)
        timings.append((time.perf_counter() - started) * 1000)
    plan = store.explain_listing(connection, query, None, count_up_to, analyze=True)["Plan"]
    total = "estimated" if listed.total is None else listed.total
    print(f"{shape or '(default page)':45} {statistics.median(timings):8.1f} ms  total {total}"
          f"{' (typo fallback)' if listed.fallback else ''}  products rows read {_rows_read(plan)}")
    for line in _nodes(plan)[:8]:
        print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(PostgresServer(extra_settings={"shared_buffers": "512MB"}))
        url = stack.enter_context(fresh_database(server.admin_url, "shapes"))
        migrate(url)
        started = time.monotonic()
        seed_products(url, args.products)
        print(f"{args.products} products loaded in {time.monotonic() - started:.0f} s")
        engine = create_engine(url)
        with engine.connect() as connection:
            for shape in SHAPES:
                measure(connection, shape, args.runs)
                connection.rollback()
        engine.dispose()


if __name__ == "__main__":
    main()
