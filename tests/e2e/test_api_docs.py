"""The API docs at the gateway's /api/docs, in a real browser: Swagger UI renders every public operation of
the five services from /api/openapi.json, with its own files only, no console error, axe-clean."""
from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from storefront_common.testing.browser import BrowserWatch, check_page
from storefront_dev.runner.platform import LocalPlatform
from storefront_dev.runner.routes import PUBLIC_ROUTES, SERVICES

METHODS = {"get", "post", "put", "patch", "delete"}
# The services with a public API (a service of pages only, at `/`, has no operation to show).
API_SERVICES = [name for name in SERVICES if any(prefix.startswith("/api/") for prefix, routed in PUBLIC_ROUTES
                                                 if routed == name)]


def test_api_docs_render_every_operation_of_the_five_services(page: Page, platform: LocalPlatform,
                                                               browser_watch: BrowserWatch) -> None:
    base = platform.config.public_url
    document = requests.get(f"{base}/api/openapi.json", timeout=10).json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in METHODS}

    page.goto(f"{base}/api/docs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Storefront API")
    # One group per service, as the merged document tags them.
    expect(page.locator(".opblock-tag")).to_have_count(len(API_SERVICES))
    assert {tag.get_attribute("data-tag") for tag in page.locator(".opblock-tag").all()} == set(API_SERVICES)
    summaries = page.locator(".opblock-summary")
    expect(summaries).to_have_count(len(operations))
    rendered = {tuple(pair) for pair in page.evaluate("""[...document.querySelectorAll('.opblock-summary')].map(
        summary => [summary.querySelector('.opblock-summary-method').innerText,
                    summary.querySelector('.opblock-summary-path').dataset.path])""")}
    assert rendered == operations
    assert len(API_SERVICES) == 5
    for service in API_SERVICES:
        prefixes = [prefix for prefix, name in PUBLIC_ROUTES if name == service]
        assert any(path == prefix or path.startswith(prefix + "/") for _, path in rendered for prefix in prefixes), service

    check_page(page, "api-docs", full_page=False)
    # One operation of each service open, with its parameters, answers and schemas; two in "Try it out" mode
    # (a body to edit, query fields to fill): what axe-core checks next.
    for service in API_SERVICES:
        page.locator(f".opblock-tag-section:has(#operations-tag-{service}) .opblock-summary-control").first.click()
    for operation in ("users-auth_login", "products-products_list_catalogue"):
        page.locator(f"#operations-{operation} .opblock-summary-control").click()
        page.locator(f"#operations-{operation} .try-out__btn").click()
    expect(page.get_by_role("textbox", name="Request body")).to_be_visible()
    expect(page.get_by_role("textbox", name="q", exact=True)).to_be_visible()
    expect(page.locator(".opblock-body")).to_have_count(len(API_SERVICES) + 2)
    check_page(page, "api-docs-operations", full_page=False)
    assert browser_watch.hosts() == {"127.0.0.1"}
    assert {url.removeprefix(base).split("?")[0] for url in browser_watch.requests} == {
        "/api/docs", "/api/docs/swagger-ui.css", "/api/docs/docs.css", "/api/docs/swagger-ui-bundle.js",
        "/api/docs/docs.js", "/api/openapi.json"}
