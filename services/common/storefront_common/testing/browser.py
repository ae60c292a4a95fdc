"""Real-browser tests: Debian's Chromium driven by Playwright, loaded as a pytest plugin by the root conftest.py.

Fixtures: `page` (a Playwright page in a fresh browser context) and `browser_watch` (what that context did).
A test that uses `page` fails when the page logged a console error, threw, had a request fail, got an HTTP
answer >= 400 the test did not announce with `browser_watch.expect_status(...)`, or sent a request anywhere
but 127.0.0.1. Helpers: `assert_fits(page, width)` (no horizontal overflow), `assert_accessible(page)`
(axe-core: no serious or critical violation), `screenshot(page, name)` and `check_page(page, name)`, all three
at 375 and 1280 px. Screenshots go to .artifacts/screenshots/, axe-core's findings of any impact to
.artifacts/accessibility/ (both git-ignored).

The browser is never downloaded: `make test` installs Debian's `chromium` (CHROMIUM overrides the path).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Request, Response
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WIDTHS = (375, 1280)
HEIGHT = 900
LOCAL_HOSTS = {"127.0.0.1"}
ARTIFACTS = Path(__file__).resolve().parents[4] / ".artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
ACCESSIBILITY = ARTIFACTS / "accessibility"  # every page's axe-core findings, of any impact
BLOCKING_IMPACTS = {"serious", "critical"}
# Chromium reaches nothing but 127.0.0.1: every other name fails to resolve inside the browser (no DNS
# query leaves it), and the services that call home on their own are off. Playwright already passes
# --disable-background-networking, --disable-component-update, --disable-sync, --no-first-run and
# --metrics-recording-only; they are repeated so this list alone says what the browser may do.
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-client-side-phishing-detection",
    "--safebrowsing-disable-auto-update",
    "--no-pings",
    "--no-first-run",
    "--metrics-recording-only",
    "--dns-prefetch-disable",
    "--disable-features=OptimizationHints,Translate,MediaRouter,DialMediaRouteProvider,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
]
# Waits for what a page shows: generous, as the machine's two cores are shared by the whole test run.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)
FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


@dataclass
class BrowserWatch:
    """Everything one browser context did that a test may assert on, and the problems it ran into."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    expected: list[tuple[int, str]] = field(default_factory=list)  # (status, URL path)
    met: list[tuple[int, str]] = field(default_factory=list)

    def expect_status(self, status: int, path: str) -> None:
        """The test means the page to get `status` (>= 400) from `path` (the URL's path, exactly)."""
        self.expected.append((status, path))

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.problems.append(f"uncaught exception: {error.error}"))

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname or "" for url in self.requests if urlsplit(url).scheme in ("http", "https")}

    def _is_expected(self, status: int, url: str) -> bool:
        return (status, urlsplit(url).path) in self.expected

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            self.problems.append(f"request outside 127.0.0.1: {request.method} {request.url}")

    def _on_request_failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        if self._is_expected(response.status, response.url):
            self.met.append((response.status, urlsplit(response.url).path))
        else:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium logs every answer >= 400 as a console error too; an announced one is no problem.
        failed_load = FAILED_LOAD.match(message.text)
        if failed_load and self._is_expected(int(failed_load.group(1)), message.location.get("url", "")):
            return
        self.problems.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def failures(self) -> list[str]:
        missing = [f"expected HTTP {status} from {path}, never got it" for status, path in self.expected
                   if (status, path) not in self.met]
        return [*self.problems, *missing]


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    # Chromium refuses to start as root with its sandbox on; Playwright then passes --no-sandbox, as it does by
    # default. The tests run as root here (and in CI), and the pages are our own on 127.0.0.1.
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                      chromium_sandbox=os.geteuid() != 0)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_watch() -> BrowserWatch:
    return BrowserWatch()


@pytest.fixture
def page(browser: Browser, browser_watch: BrowserWatch) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT}, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    browser_watch.attach(context)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test's own body: what the browser ran into fails the test itself, not its teardown."""
    result = yield
    watch = getattr(item, "funcargs", {}).get("browser_watch")
    if isinstance(watch, BrowserWatch) and watch.failures():
        pytest.fail("the browser ran into problems:\n  " + "\n  ".join(watch.failures()), pytrace=False)
    return result


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):  # `page` too: it needs `browser`
            item.add_marker("browser")


def overflow(page: Page) -> dict[str, Any]:
    """How much wider than the viewport the page is, and the elements sticking out past its right edge."""
    return page.evaluate("""() => {
        const root = document.documentElement, width = root.clientWidth;
        const wide = [...document.body.querySelectorAll('*')]
            .filter(element => element.getBoundingClientRect().right > width + 1)
            .slice(0, 5)
            .map(element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
                 + (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : ''));
        return {by: root.scrollWidth - width, elements: wide};
    }""")


def assert_fits(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": HEIGHT})
    found = overflow(page)
    assert found["by"] <= 0, f"{page.url} at {width} px is {found['by']} px too wide: {found['elements']}"


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every impact)."""
    return Axe().run(page).response["violations"]


def assert_accessible(page: Page, name: str | None = None) -> None:
    """No serious or critical axe-core violation; with `name`, every finding is kept in .artifacts/accessibility/."""
    violations = accessibility_violations(page)
    if name is not None:
        ACCESSIBILITY.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        findings = [{"id": violation["id"], "impact": violation["impact"], "help": violation["help"],
                     "nodes": len(violation["nodes"])} for violation in violations]
        (ACCESSIBILITY / f"{name}-{width}.json").write_text(json.dumps({"url": page.url, "violations": findings}, indent=1))
    blocking = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page.url}: axe-core found\n" + "\n".join(
        f"  {violation['impact']} {violation['id']}: {violation['help']} "
        f"({', '.join(node['target'][0] if isinstance(node['target'][0], str) else str(node['target']) for node in violation['nodes'][:3])})"
        for violation in blocking)


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """.artifacts/screenshots/<name>-<width>.png: the whole page, or (full_page=False) what the window shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def check_page(page: Page, name: str, full_page: bool = True) -> None:
    """What every page must pass: fits at 375 and 1280 px, axe-clean at both; a screenshot of each (of the
    window only with full_page=False, for a page many screens long). Measured once the page has loaded (its
    stylesheet too: a page measured before its CSS applies is as wide as its widest table)."""
    page.wait_for_load_state("load")
    for width in WIDTHS:
        assert_fits(page, width)
        assert_accessible(page, name)
        screenshot(page, name, full_page)
