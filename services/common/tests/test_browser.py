"""The real-browser harness (storefront_common.testing.browser) catches what a person would notice: script
errors, broken links and images, pages too wide for a phone, inaccessible markup; and the browser talks to
nothing but 127.0.0.1."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response
from playwright.sync_api import Browser, Page

from storefront_common.testing.browser import (BrowserWatch, accessibility_violations, assert_accessible,
                                               assert_fits, check_page)
from storefront_common.testing.servers import serve_wsgi

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css"></head><body><main><h1>{title}</h1>{body}</main></body></html>"""
SWATCH = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#0b6b3a"/></svg>'


def html(title: str, body: str = "") -> Response:
    return Response(PAGE.format(title=title, body=body), content_type="text/html")


def site() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/style.css", "style", lambda: Response("body { font-family: sans-serif; }", content_type="text/css"))
    app.add_url_rule("/swatch.svg", "swatch", lambda: Response(SWATCH, content_type="image/svg+xml"))
    app.add_url_rule("/data.json", "data", lambda: {"ok": True})
    app.add_url_rule("/script.js", "script", lambda: Response(
        "fetch('/data.json').then(r => r.json()).then(d => { document.querySelector('output').textContent = d.ok; });",
        content_type="text/javascript"))
    app.add_url_rule("/", "home", lambda: html("Home", '<img src="/swatch.svg" alt="A green swatch">'
                                              '<output>loading</output><script src="/script.js"></script>'))
    app.add_url_rule("/outside", "outside", lambda: html("Outside", '<img src="http://shop.example/logo.png" alt="Logo">'))
    app.add_url_rule("/throws", "throws", lambda: html("Throws", "<script src='/throw.js'></script>"))
    app.add_url_rule("/throw.js", "throw", lambda: Response("null.boom();", content_type="text/javascript"))
    app.add_url_rule("/broken-image", "broken", lambda: html("Broken", '<img src="/missing.png" alt="Missing">'))
    app.add_url_rule("/gone", "gone", lambda: Response(
        PAGE.format(title="Gone", body="<p>This page is gone.</p>"), status=410, content_type="text/html"))
    app.add_url_rule("/wide", "wide", lambda: html("Wide", '<div style="width: 600px">a fixed 600 px box</div>'))
    app.add_url_rule("/inaccessible", "inaccessible", lambda: html(
        "Inaccessible", '<img src="/swatch.svg"><button></button>'))
    return app


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    with serve_wsgi(site()) as url:
        yield url


def watched_page(browser: Browser) -> tuple[Page, BrowserWatch]:
    """A page whose problems the test inspects itself, instead of failing on them as `page` does."""
    context = browser.new_context()
    watch = BrowserWatch()
    watch.attach(context)
    return context.new_page(), watch


def test_a_clean_page_passes_and_every_request_went_to_127_0_0_1(page: Page, site_url: str, browser_watch: BrowserWatch) -> None:
    page.goto(site_url + "/")
    page.wait_for_function("document.querySelector('output').textContent === 'true'")
    check_page(page, "harness-home")
    assert browser_watch.hosts() == {"127.0.0.1"}
    assert {url.removeprefix(site_url) for url in browser_watch.requests} == {
        "/", "/style.css", "/swatch.svg", "/script.js", "/data.json"}


def test_an_outside_name_is_never_resolved(browser: Browser, site_url: str) -> None:
    page, watch = watched_page(browser)
    started = time.monotonic()
    page.goto(site_url + "/outside", wait_until="load")
    # The browser's own resolver rules answer "not found" at once: no DNS query is sent, none times out.
    assert time.monotonic() - started < 5
    assert "request outside 127.0.0.1: GET http://shop.example/logo.png" in watch.failures()
    assert "request failed: GET http://shop.example/logo.png: net::ERR_NAME_NOT_RESOLVED" in watch.failures()
    page.context.close()


def test_script_errors_and_missing_files_are_problems(browser: Browser, site_url: str) -> None:
    page, watch = watched_page(browser)
    page.goto(site_url + "/throws", wait_until="load")
    page.goto(site_url + "/broken-image", wait_until="load")
    failures = watch.failures()
    assert any(failure.startswith("uncaught exception: ") and "boom" in failure for failure in failures), failures
    assert f"HTTP 404: GET {site_url}/missing.png" in failures
    assert any(failure.startswith("console error: Failed to load resource") for failure in failures), failures
    page.context.close()


def test_an_announced_error_status_is_no_problem_and_a_missing_one_is(browser: Browser, site_url: str) -> None:
    page, watch = watched_page(browser)
    watch.expect_status(410, "/gone")
    watch.expect_status(409, "/never-asked")
    page.goto(site_url + "/gone")
    assert watch.failures() == ["expected HTTP 409 from /never-asked, never got it"]
    page.context.close()


def test_a_page_wider_than_a_phone_is_caught(page: Page, site_url: str) -> None:
    page.goto(site_url + "/wide")
    assert_fits(page, 1280)
    with pytest.raises(AssertionError, match=r"at 375 px is \d+ px too wide: \['div'"):
        assert_fits(page, 375)


def test_serious_accessibility_violations_are_caught(page: Page, site_url: str) -> None:
    page.goto(site_url + "/inaccessible")
    found = {violation["id"]: violation["impact"] for violation in accessibility_violations(page)}
    assert found["image-alt"] == "critical" and found["button-name"] == "critical"
    with pytest.raises(AssertionError, match="critical image-alt"):
        assert_accessible(page)
