"""Checkout benchmark: virtual users doing add-to-cart + wallet checkout through the gateway.

All five services run under granian on PostgreSQL behind the local gateway, as `make up` runs them
(but on PostgreSQL). Each virtual user loops add-to-cart then checkout with no think time (a closed
loop: latency is what N users get from the throughput the two cores can give). Prints, per round and
as the median of the rounds, checkouts/s and p50/p95/p99 of the pair, of the checkout request alone
and of the add-to-cart alone, and the CPU the machine spent per pair; then, per level, the mean time a
request spends inside each service (from the services' own Prometheus histograms). Not a test: it prints
numbers and never fails on them.

    make bench-checkout    # or: .venv/bin/python bench/checkout/run.py --seconds 15 --rounds 3 --users 4 16 32
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from storefront_common.client import KeepAliveConnections
from storefront_common.settings import DEFAULT_WEB_THREADS
from storefront_common.testing.databases import fresh_database
from storefront_common.testing.postgres import PostgresServer
from storefront_common.testing.servers import free_port
from storefront_dev.runner.config import SERVICE_THREADS, LocalConfig
from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.runner.routes import SERVICES
from storefront_dev.shop_api import Account, Api

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
    """One customer on one keep-alive connection, on the services' own lean HTTP client: the load
    generator shares the platform's two cores, and every millisecond it spends is taken from them."""

    def __init__(self, base_url: str, customer: Account) -> None:
        self.connection = KeepAliveConnections(base_url, connect_timeout=5.0, read_timeout=60.0)
        self.headers = {**customer.headers, "Content-Type": "application/json"}

    def timed_post(self, path: str, body: dict[str, Any], key: str | None = None) -> tuple[int, bytes, float]:
        headers = {**self.headers, "Idempotency-Key": key} if key else self.headers
        started = time.perf_counter()
        status, content, _ = self.connection.exchange("POST", path, json.dumps(body).encode(), headers)
        return status, content, time.perf_counter() - started


@dataclass
class Samples:
    """Seconds per successful add-to-cart, per checkout, and per pair (one sample of the headline)."""

    add: list[float] = field(default_factory=list)
    checkout: list[float] = field(default_factory=list)
    pair: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def virtual_user(base_url: str, customer: Account, product_id: str, stop_at: float, samples: Samples) -> None:
    user = VirtualUser(base_url, customer)
    while time.monotonic() < stop_at:
        added, _, add_seconds = user.timed_post("/api/v1/cart/items", {"product_id": product_id, "quantity": 1})
        ordered, body, checkout_seconds = user.timed_post("/api/v1/orders", CHECKOUT, key=uuid.uuid4().hex)
        if added != 200 or ordered != 201:
            samples.errors.append(f"{added}/{ordered}: {body[:120]!r}")
            continue
        samples.add.append(add_seconds)
        samples.checkout.append(checkout_seconds)
        samples.pair.append(add_seconds + checkout_seconds)


@dataclass(frozen=True)
class Level:
    """One run at one concurrency: checkouts/s and p50/p95/p99 in ms of the pair, the checkout, the add."""

    users: int
    rate: float
    pair: tuple[float, float, float]
    checkout: tuple[float, float, float]
    add: tuple[float, float, float]
    errors: int
    cpu_ms: float  # CPU the whole machine spent per add+checkout (every process, user and system time)
    steal_percent: float  # of the machine's cores, taken by the hypervisor for other guests meanwhile
    pairs: int  # successful add+checkout pairs (the median of a level: the rounds' sum)


def _quantiles(seconds: list[float]) -> tuple[float, float, float]:
    ms = [value * 1000 for value in seconds]
    return percentile(ms, 0.50), percentile(ms, 0.95), percentile(ms, 0.99)


def cpu_seconds() -> tuple[float, float]:
    """CPU time this machine's processes and kernel have used so far, and time stolen from them
    (Linux /proc/stat; NaN elsewhere).

    Latency on a shared 2-core machine swings 10-15% between runs; CPU per add+checkout moves less with the
    machine's load, so it is the number to compare two versions of the code by. Steal is time the
    hypervisor gave to other guests while this one wanted to run: not ours, but it says how busy the host was.
    """
    try:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (
                int(value) for value in stat.readline().split()[1:9])
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def reference_loop_seconds() -> float:
    """How long this machine takes for a fixed pure-Python loop (0.16-0.17 s on a quiet day here).

    The shared machine's speed drifts by up to 2x within hours; printed beside the results, it says which
    numbers from different runs may be compared at all.
    """
    started = time.perf_counter()
    sum(i * i for i in range(5_000_000))
    return time.perf_counter() - started


CpuByPart = Counter[str]  # "orders", "postgres bench_orders", "load generator", ... -> CPU seconds so far


def cpu_by_part(platform: LocalPlatform) -> CpuByPart:
    """CPU used so far by each part of the platform (Linux /proc): each child's process group (a service's
    server and its workers, the gateway, the simulator), PostgreSQL's backends by database, and this
    load generator. Unlike the machine's total, it is not inflated by other work on a shared host."""
    groups = {child.process.pid: child.name for child in platform.children if child.process is not None}
    tick = os.sysconf("SC_CLK_TCK")
    totals: CpuByPart = Counter()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            command = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process has exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # from the 3rd field, state
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime, every thread
        words = command[0].decode(errors="replace").split()
        if int(fields[3]) in groups:  # the session: each child starts its own
            totals[groups[int(fields[3])]] += seconds
        elif len(words) > 2 and words[0] == "postgres:" and words[2].startswith("bench_"):
            totals[f"postgres {words[2].removeprefix('bench_')}"] += seconds  # "postgres: user database host state"
        elif int(entry.name) == os.getpid():
            totals["load generator"] += seconds
    return totals


def report_cpu_by_part(users: int, spent: CpuByPart, pairs: int) -> None:
    print(f"{users:>3} users: CPU per add+checkout by part, ms (total {sum(spent.values()) * 1000 / pairs:.1f})")
    for part, seconds in spent.most_common():
        print(f"      {seconds * 1000 / pairs:7.2f}  {part}")


ServerTime = Counter[tuple[str, str, str]]  # (service, "METHOD /route", "sum" or "count") -> seconds or requests
PROBES = ("/metrics", "/healthz", "/readyz")


def server_time(service_ports: dict[str, int]) -> ServerTime:
    """Each service's own request durations so far, from its Prometheus histogram.

    They start when Flask gets the request, so time a request spent queued for one of the server's threads
    is not in them: a checkout's latency less the time inside the services is waiting.
    """
    totals: ServerTime = Counter()
    for service, port in service_ports.items():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            if family.name != "http_request_duration_seconds":
                continue
            for sample in family.samples:
                kind = sample.name.rsplit("_", 1)[-1]
                if kind in ("sum", "count") and sample.labels["endpoint"] not in PROBES:
                    totals[(service, f"{sample.labels['method']} {sample.labels['endpoint']}", kind)] += sample.value
    return totals


def report_server_time(users: int, spent: ServerTime, pairs: int) -> None:
    means = sorted(((spent[(service, route, "sum")] / count * 1000, count / pairs, service, route)
                    for (service, route, kind), count in spent.items() if kind == "count" and count > 0),
                   reverse=True)
    print(f"{users:>3} users: time inside the service per request, mean ms (the client waits this plus queueing), "
          "and requests per add+checkout")
    for mean, per_pair, service, route in means:
        print(f"      {mean:7.1f}  {per_pair:4.2f}  {service:9} {route}")


def run_level(base_url: str, product_id: str, customers: list[Account], seconds: float) -> Level:
    samples = Samples()
    busy_before, stolen_before = cpu_seconds()
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=virtual_user, args=(base_url, c, product_id, stop_at, samples))
               for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    busy_after, stolen_after = cpu_seconds()
    busy = busy_after - busy_before
    steal_percent = (stolen_after - stolen_before) * 100 / (seconds * (os.cpu_count() or 1))
    for error in samples.errors[:3]:
        print(f"       e.g. {error}")
    cpu_ms = busy * 1000 / len(samples.pair) if samples.pair else float("nan")
    return Level(len(customers), len(samples.pair) / seconds, _quantiles(samples.pair),
                 _quantiles(samples.checkout), _quantiles(samples.add), len(samples.errors), cpu_ms, steal_percent,
                 len(samples.pair))


def _ms(label: str, quantiles: tuple[float, float, float]) -> str:
    return f"{label} p50 {quantiles[0]:6.1f} p95 {quantiles[1]:6.1f} p99 {quantiles[2]:6.1f}"


def report(level: Level, prefix: str = "") -> None:
    print(f"{prefix}{level.users:>3} users {level.rate:6.1f} checkouts/s | {_ms('add+checkout', level.pair)} | "
          f"{_ms('checkout', level.checkout)} | {_ms('add', level.add)} ms | CPU {level.cpu_ms:4.1f} ms/pair | "
          f"steal {level.steal_percent:2.0f}% | errors {level.errors}", flush=True)


def median_level(runs: list[Level]) -> Level:
    def mid(pick: Callable[[Level], tuple[float, float, float]]) -> tuple[float, float, float]:
        return tuple(statistics.median(pick(run)[i] for run in runs) for i in range(3))  # type: ignore[return-value]

    return Level(runs[0].users, statistics.median(run.rate for run in runs), mid(lambda run: run.pair),
                 mid(lambda run: run.checkout), mid(lambda run: run.add), sum(run.errors for run in runs),
                 statistics.median(run.cpu_ms for run in runs), statistics.median(run.steal_percent for run in runs),
                 sum(run.pairs for run in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3, help="each level this many times; medians are printed")
    parser.add_argument("--users", type=int, nargs="+", default=[4, 16, 32])
    # One worker per service, as `make up` runs them: with two, keep-alive connections stick to whichever
    # worker accepted them, and the busier one's queue stretches the tail (p95 about 20% higher, measured).
    parser.add_argument("--workers", type=int, default=1, help="server worker processes per service")
    parser.add_argument("--threads", type=int, help="server threads per worker, for every service "
                        "(default: as `make up` runs them)")
    args = parser.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(PostgresServer())
        urls = {name: stack.enter_context(fresh_database(server.admin_url, f"bench_{name}")) for name in SERVICES}
        threads = {"WEB_THREADS": str(args.threads)} if args.threads else {}
        config = LocalConfig(port=free_port(), data_dir=Path(stack.enter_context(tempfile.TemporaryDirectory())),
                             seed_demo=False, database_urls=urls, workers=args.workers,
                             job_interval_seconds=3600, extra_env={"LOG_LEVEL": "WARNING", **threads})
        platform = stack.enter_context(LocalPlatform(config, dict(os.environ)))
        api = Api(config.public_url)
        product, customers = prepare(api, max(args.users))
        before_loop = reference_loop_seconds()
        thread_text = f"{args.threads} threads" if args.threads else (
            f"{DEFAULT_WEB_THREADS} threads ({', '.join(f'{s} {n}' for s, n in SERVICE_THREADS.items())})")
        print(f"platform: 5 services x {args.workers} granian workers x {thread_text}, "
              f"PostgreSQL, {os.cpu_count()} cores; {args.rounds} rounds of {args.seconds:.0f} s per level")
        runs: dict[int, list[Level]] = {users: [] for users in args.users}
        spent: dict[int, ServerTime] = {users: Counter() for users in args.users}
        cpu: dict[int, CpuByPart] = {users: Counter() for users in args.users}
        ports = {name: config.service_ports[name] for name in SERVICES if name != "users"}
        for round_number in range(1, args.rounds + 1):
            for users in args.users:
                before, cpu_before = server_time(ports), cpu_by_part(platform)
                runs[users].append(run_level(api.base_url, product["id"], customers[:users], args.seconds))
                cpu[users].update(cpu_by_part(platform))
                cpu[users].subtract(cpu_before)
                spent[users].update(server_time(ports))
                spent[users].subtract(before)
                report(runs[users][-1], f"round {round_number}: ")
        print(f"reference loop: {before_loop:.2f} s before the rounds, {reference_loop_seconds():.2f} s after")
        print("median of the rounds (errors: the sum):")
        for users in args.users:
            report(median_level(runs[users]))
        for users in args.users:
            pairs = sum(run.pairs for run in runs[users])
            report_server_time(users, spent[users], pairs)
            report_cpu_by_part(users, cpu[users], pairs)


if __name__ == "__main__":
    main()
