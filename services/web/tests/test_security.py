"""What keeps a shopper's session and pages safe: escaping, CSRF, the cookie, rotation, logout, headers."""
from __future__ import annotations

import uuid
from typing import Any

import requests
from flask import Flask

from storefront_common.testing.databases import fresh_database, migrated
from storefront_dev.runner.platform import LocalPlatform
from storefront_web.app import create_app
from storefront_web.dependencies import db
from storefront_web.models import WebSession

from services.web.tests.conftest import PASSWORD, PageClient, Shopper, web_settings


def session_rows(app: Flask) -> list[WebSession]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(WebSession)))
        db.session.expunge_all()
        return rows


def test_a_product_named_like_a_script_shows_as_text(visitor: PageClient, make_product: Any) -> None:
    product = make_product(name="<script>alert(1)</script>", description='"><img src=x onerror=alert(2)>')
    for page in (f"/products/{product['id']}", "/products?q=script", "/"):
        text = visitor.text(page)
        assert "<script>alert(1)" not in text and "<img src=x" not in text
    page = visitor.text(f"/products/{product['id']}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
        shopper: Shopper, make_product: Any) -> None:
    visitor = shopper.visitor
    product = make_product()
    assert visitor.submit(f"/products/{product['id']}", "/cart/items",
                          product_id=product["id"], quantity="2").status_code == 303
    refused = visitor.client.post("/cart/clear")
    assert refused.status_code == 400
    assert "Form expired" in refused.get_data(as_text=True)
    forged = visitor.client.post("/cart/clear", data={"csrf_token": "not-the-token"})
    assert forged.status_code == 400
    assert product["name"] in visitor.text("/cart")  # the cart is as it was
    anonymous_login = PageClient(visitor.client.application.test_client()).client.post(
        "/login", data={"email": shopper.email, "password": shopper.password})
    assert anonymous_login.status_code == 400


def test_the_session_cookie_is_httponly_lax_and_signed_and_holds_no_token(shopper: Shopper, app: Flask) -> None:
    visitor = shopper.visitor
    answer = visitor.client.post("/logout", data={"csrf_token": visitor.csrf_token("/")})
    cookie_header = visitor.client.post("/login", data={"csrf_token": visitor.csrf_token("/login"),
                                                        "email": shopper.email, "password": PASSWORD})
    assert answer.status_code == 303 and cookie_header.status_code == 303
    set_cookie = cookie_header.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    [row] = session_rows(app)
    page = visitor.text("/account")
    for token in (row.access_token, row.refresh_token):
        assert token not in set_cookie and token not in page
    tampered = visitor.session_cookie()[:-2] + "xx"  # type: ignore[index]
    visitor.client.set_cookie("storefront_session", tampered)
    assert visitor.get("/orders").status_code == 303  # a cookie whose signature fails is no session


def test_in_production_the_cookie_is_secure(platform: LocalPlatform, postgres_admin_url: str) -> None:
    with fresh_database(postgres_admin_url, "web_production") as url:
        settings = web_settings(platform, url, environment="production")
        with migrated(create_app(settings)) as production:
            answer = production.test_client().get("/login", base_url="https://shop.test")
            assert "Secure" in answer.headers["Set-Cookie"]


def test_logging_in_rotates_the_session_id(visitor: PageClient, shopper: Shopper, app: Flask) -> None:
    visitor.client.post("/logout", data={"csrf_token": visitor.csrf_token("/")})
    visitor.get("/login")
    planted = visitor.session_cookie()  # what an attacker could have set in the victim's visitor
    assert visitor.submit("/login", "/login", email=shopper.email, password=PASSWORD).status_code == 303
    assert visitor.session_cookie() != planted
    assert visitor.get("/orders").status_code == 200
    attacker = PageClient(app.test_client())
    attacker.client.set_cookie("storefront_session", planted)  # type: ignore[arg-type]
    assert attacker.get("/orders").status_code == 303
    assert len(session_rows(app)) == 1


def test_logout_ends_the_session_and_revokes_the_refresh_token(
        shopper: Shopper, app: Flask, platform: LocalPlatform) -> None:
    visitor = shopper.visitor
    [row] = session_rows(app)
    kept_cookie = visitor.session_cookie()
    assert visitor.submit("/", "/logout").status_code == 303
    assert session_rows(app) == []
    stolen = PageClient(app.test_client())
    stolen.client.set_cookie("storefront_session", kept_cookie)  # type: ignore[arg-type]
    assert stolen.get("/orders").headers["Location"].startswith("/login")
    refresh = requests.post(f"{platform.config.public_url}/api/v1/auth/refresh", timeout=30,
                            headers={"Authorization": f"Bearer {row.refresh_token}"})
    assert refresh.status_code == 401


def test_an_expired_access_token_is_refreshed_without_the_shopper_noticing(shopper: Shopper, app: Flask) -> None:
    [before] = session_rows(app)
    with app.app_context():
        db.session.execute(db.update(WebSession).values(access_expires_at=before.created_at))
        db.session.commit()
    assert "Your cart" in shopper.visitor.text("/cart")
    [after] = session_rows(app)
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    assert "Your orders" in shopper.visitor.text("/orders")  # the new tokens go on working


def test_pages_forbid_framing_and_inline_script(visitor: PageClient) -> None:
    answer = visitor.get("/login")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "<script" not in answer.get_data(as_text=True) and "style=" not in answer.get_data(as_text=True)


def test_next_after_login_stays_on_this_site(visitor: PageClient, shopper: Shopper) -> None:
    visitor.client.post("/logout", data={"csrf_token": visitor.csrf_token("/")})
    answer = visitor.submit("/login", "/login", email=shopper.email, password=PASSWORD,
                            next="https://evil.example/steal")
    assert answer.headers["Location"] == "/"


def test_a_signed_out_visitor_is_sent_to_log_in_and_back(app: Flask) -> None:
    visitor = PageClient(app.test_client())
    for page in ("/cart", "/orders", "/wallet", "/checkout", "/account"):
        answer = visitor.get(page)
        assert answer.status_code == 303 and answer.headers["Location"] == f"/login?next={page}"


def test_sessions_work_on_sqlite_as_make_up_keeps_them(platform: LocalPlatform, tmp_path: Any) -> None:
    with migrated(create_app(web_settings(platform, f"sqlite:///{tmp_path / 'web.db'}"))) as local:
        visitor = PageClient(local.test_client())
        answer = visitor.submit("/register", "/register", first_name="Ada", last_name="Obi", role="customer",
                                email=f"local-{uuid.uuid4().hex[:8]}@example.com", password=PASSWORD)
        assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
        assert visitor.get("/orders").status_code == 200
        assert visitor.submit("/", "/logout").status_code == 303
        assert visitor.get("/orders").status_code == 303


def test_its_operations_endpoints_are_not_public_through_the_gateway(platform: LocalPlatform, app: Flask) -> None:
    through_gateway = requests.get(f"{platform.config.public_url}/metrics", timeout=30)
    assert through_gateway.status_code == 404
    assert requests.get(f"{platform.config.public_url}/openapi.json", timeout=30).status_code == 404
    direct = requests.get(f"{platform.config.service_url('web')}/metrics", timeout=30)  # as Prometheus scrapes
    assert direct.status_code == 200 and "http_requests_total" in direct.text
