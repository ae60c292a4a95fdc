from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from services.products.tests.conftest import Shop
from storefront_common.testing.currency import configured_currency
from storefront_common.testing.servers import serve_wsgi
from storefront_common.testing.tokens import Auth
from storefront_common.timeutil import utcnow
from storefront_products.dependencies import db
from storefront_products.models import Reservation, ReservationItem
from storefront_products.reservations import expire_due


def reserve(client: FlaskClient, auth: Auth, items: list[tuple[str, int]], order_id: str | None = None,
            ttl_seconds: int = 900) -> Any:
    body = {"order_id": order_id or str(uuid.uuid4()), "ttl_seconds": ttl_seconds,
            "items": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in items]}
    return client.post("/internal/reservations", headers=auth.service("orders"), json=body)


def age(app: Flask, reservation_id: str) -> None:
    """Move a reservation's expiry into the past, as if its TTL had run out."""
    with app.app_context():
        db.session.execute(update(Reservation).where(Reservation.id == uuid.UUID(reservation_id))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def reserved_units(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.coalesce(func.sum(ReservationItem.quantity), 0))) or 0)


def test_reservation_takes_units_out_of_stock(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category()
    phone = shop.product(category, name="Phone", price=9_000, stock=5)
    case = shop.product(category, name="Case", price=500, stock=2, headers=shop.other_vendor)
    order_id = str(uuid.uuid4())
    created = reserve(client, auth, [(phone["id"], 2), (case["id"], 1), (phone["id"], 1)], order_id)
    assert created.status_code == 201
    body = created.json
    assert body["order_id"] == order_id and body["status"] == "active" and body["expires_at"].endswith("Z")
    lines = {line["product_id"]: line for line in body["items"]}
    assert lines[phone["id"]] == {"product_id": phone["id"], "quantity": 3, "name": "Phone", "unit_price": 9_000,
                                  "currency": "NGN", "vendor_id": str(shop.vendor_id)}
    assert lines[case["id"]]["vendor_id"] == str(shop.other_vendor_id) and lines[case["id"]]["currency"] == "NGN"
    assert len(body["items"]) == 2
    assert shop.stock_of(phone["id"]) == 2 and shop.stock_of(case["id"]) == 1
    assert client.get(f"/internal/reservations/{body['id']}", headers=auth.service("orders")).json == body


def test_all_or_nothing_with_the_insufficient_list(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    category = shop.category()
    plenty = shop.product(category, name="Plenty", stock=100)
    scarce = shop.product(category, name="Scarce", stock=2)
    hidden = shop.product(category, name="Hidden", stock=50, is_active=False)
    unknown = str(uuid.uuid4())
    refused = reserve(client, auth, [(plenty["id"], 10), (scarce["id"], 3), (hidden["id"], 1), (unknown, 1)])
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["status"] == 409 and refused.json["title"]
    assert sorted(refused.json["insufficient"], key=lambda line: line["product_id"]) == sorted([
        {"product_id": scarce["id"], "requested": 3, "available": 2},
        {"product_id": hidden["id"], "requested": 1, "available": 0},
        {"product_id": unknown, "requested": 1, "available": 0},
    ], key=lambda line: line["product_id"])
    assert shop.stock_of(plenty["id"]) == 100 and shop.stock_of(scarce["id"]) == 2
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reservation)) == 0


def test_a_line_in_another_currency_than_the_shops_is_422_and_nothing_is_reserved(app: Flask, client: FlaskClient,
                                                                                  shop: Shop, auth: Auth) -> None:
    category = shop.category()
    naira = shop.product(category, name="Naira phone", stock=5)
    with configured_currency(app, "USD"):  # the shop sold in USD once
        dollars = shop.product(category, name="Dollar phone", stock=5)
    order_id = str(uuid.uuid4())
    refused = reserve(client, auth, [(naira["id"], 1), (dollars["id"], 2)], order_id)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    reason = f"Dollar phone ({dollars['id']}) is priced in USD; this shop sells and settles in NGN only."
    assert refused.json["detail"] == reason and refused.json["errors"] == [{"field": "items", "message": reason}]
    assert shop.stock_of(naira["id"]) == 5 and shop.stock_of(dollars["id"]) == 5
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reservation)) == 0
    assert reserve(client, auth, [(naira["id"], 1)], order_id).status_code == 201


def test_same_order_is_idempotent(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=5)
    order_id = str(uuid.uuid4())
    first = reserve(client, auth, [(product["id"], 2)], order_id)
    again = reserve(client, auth, [(product["id"], 1), (product["id"], 1)], order_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert shop.stock_of(product["id"]) == 3
    different = reserve(client, auth, [(product["id"], 3)], order_id)
    assert different.status_code == 409
    assert shop.stock_of(product["id"]) == 3


def test_commit_is_idempotent_and_final(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    product = shop.product(shop.category(), stock=5)
    reservation = reserve(client, auth, [(product["id"], 2)]).json
    commit_path = f"/internal/reservations/{reservation['id']}/commit"
    first = client.post(commit_path, headers=service)
    assert first.status_code == 200 and first.json["status"] == "committed"
    again = client.post(commit_path, headers=service)
    assert again.status_code == 200 and again.json == first.json
    released = client.post(f"/internal/reservations/{reservation['id']}/release", headers=service)
    assert released.status_code == 409
    assert shop.stock_of(product["id"]) == 3


def test_release_is_idempotent_and_returns_units(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    product = shop.product(shop.category(), stock=5)
    order_id = str(uuid.uuid4())
    reservation = reserve(client, auth, [(product["id"], 4)], order_id).json
    assert shop.stock_of(product["id"]) == 1
    release_path = f"/internal/reservations/{reservation['id']}/release"
    first = client.post(release_path, headers=service)
    assert first.status_code == 200 and first.json["status"] == "released"
    again = client.post(release_path, headers=service)
    assert again.status_code == 200 and again.json == first.json
    assert shop.stock_of(product["id"]) == 5
    assert client.post(f"/internal/reservations/{reservation['id']}/commit", headers=service).status_code == 409
    assert reserve(client, auth, [(product["id"], 4)], order_id).status_code == 409
    assert shop.stock_of(product["id"]) == 5


def test_expiry_job_returns_units(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    product = shop.product(shop.category(), stock=5)
    due = reserve(client, auth, [(product["id"], 3)]).json
    fresh = reserve(client, auth, [(product["id"], 1)]).json
    age(app, due["id"])
    result = app.test_cli_runner().invoke(args=["expire-reservations"])
    assert result.exit_code == 0 and "expired 1 reservation" in result.output
    assert shop.stock_of(product["id"]) == 4
    assert client.post(f"/internal/reservations/{due['id']}/commit", headers=service).status_code == 409
    released = client.post(f"/internal/reservations/{due['id']}/release", headers=service)
    assert released.status_code == 200 and released.json["status"] == "expired"
    assert client.post(f"/internal/reservations/{fresh['id']}/commit", headers=service).status_code == 200
    assert app.test_cli_runner().invoke(args=["expire-reservations"]).output.startswith("expired 0")
    assert shop.stock_of(product["id"]) == 4


def test_expiry_happens_lazily_on_read_and_commit(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    product = shop.product(shop.category(), stock=5)
    read_one = reserve(client, auth, [(product["id"], 2)]).json
    commit_one = reserve(client, auth, [(product["id"], 3)]).json
    assert shop.stock_of(product["id"]) == 0
    age(app, read_one["id"])
    age(app, commit_one["id"])
    read = client.get(f"/internal/reservations/{read_one['id']}", headers=service)
    assert read.json["status"] == "expired"
    assert shop.stock_of(product["id"]) == 2
    refused = client.post(f"/internal/reservations/{commit_one['id']}/commit", headers=service)
    assert refused.status_code == 409
    assert shop.stock_of(product["id"]) == 5


def test_repeating_an_order_whose_reservation_is_due_expires_it(app: Flask, client: FlaskClient,
                                                                 shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=5)
    order_id = str(uuid.uuid4())
    reservation = reserve(client, auth, [(product["id"], 2)], order_id).json
    age(app, reservation["id"])
    refused = reserve(client, auth, [(product["id"], 2)], order_id)
    assert refused.status_code == 409 and refused.json["reservation_status"] == "expired"
    assert refused.json["reservation_id"] == reservation["id"]
    assert shop.stock_of(product["id"]) == 5
    assert reserve(client, auth, [(product["id"], 2)], order_id).status_code == 409
    assert shop.stock_of(product["id"]) == 5


def test_reservation_validation_and_access(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    product = shop.product(shop.category(), stock=5)
    valid = {"order_id": str(uuid.uuid4()), "ttl_seconds": 60, "items": [{"product_id": product["id"], "quantity": 1}]}
    for change in ({"items": []}, {"items": [{"product_id": product["id"], "quantity": 0}]},
                   {"items": [{"product_id": product["id"], "quantity": 1.5}]}, {"order_id": "order-1"},
                   {"ttl_seconds": 0}, {"ttl_seconds": 3601}, {"ttl_seconds": "60"}, {"extra": True}):
        response = client.post("/internal/reservations", headers=service, json={**valid, **change})
        assert response.status_code == 422, change
    not_json = client.post("/internal/reservations", headers=service, data="order",
                           content_type="application/json")
    assert not_json.status_code == 400
    assert client.post("/internal/reservations", json=valid).status_code == 401
    assert client.post("/internal/reservations", headers=auth.admin(), json=valid).status_code == 403
    assert client.post("/internal/reservations", headers=shop.customer, json=valid).status_code == 403
    assert shop.stock_of(product["id"]) == 5
    unknown = uuid.uuid4()
    assert client.get(f"/internal/reservations/{unknown}", headers=service).status_code == 404
    assert client.post(f"/internal/reservations/{unknown}/commit", headers=service).status_code == 404
    assert client.post(f"/internal/reservations/{unknown}/release", headers=service).status_code == 404
    assert client.post(f"/internal/reservations/{unknown}/release", headers=shop.vendor).status_code == 403


def test_sixty_concurrent_orders_reserve_exactly_the_ten_units(app: Flask, client: FlaskClient,
                                                               shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=10)
    headers = auth.service("orders")
    orders = [str(uuid.uuid4()) for _ in range(60)]

    def reserve_one(order_id: str) -> requests.Response:
        body = {"order_id": order_id, "ttl_seconds": 600, "items": [{"product_id": product["id"], "quantity": 1}]}
        return requests.post(f"{base_url}/internal/reservations", json=body, headers=headers, timeout=60)

    with serve_wsgi(app) as base_url:
        with ThreadPoolExecutor(max_workers=60) as pool:
            responses = list(pool.map(reserve_one, orders))
        statuses = [response.status_code for response in responses]
        assert statuses.count(201) == 10 and statuses.count(409) == 50
        assert shop.stock_of(product["id"]) == 0
        assert reserved_units(app) == 10
        winner = next(order for order, response in zip(orders, responses) if response.status_code == 201)
        repeat = reserve_one(winner)
        assert repeat.status_code == 200
        with ThreadPoolExecutor(max_workers=20) as pool:
            repeats = list(pool.map(reserve_one, [winner] * 20))
    assert {response.status_code for response in repeats} == {200}
    assert shop.stock_of(product["id"]) == 0
    assert reserved_units(app) == 10


def test_concurrent_twins_of_one_order_reserve_once(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=100)
    body = {"order_id": str(uuid.uuid4()), "ttl_seconds": 600,
            "items": [{"product_id": product["id"], "quantity": 7}]}
    headers = auth.service("orders")
    with serve_wsgi(app) as base_url:
        with ThreadPoolExecutor(max_workers=25) as pool:
            responses = list(pool.map(
                lambda _: requests.post(f"{base_url}/internal/reservations", json=body, headers=headers, timeout=60),
                range(25)))
    assert sorted(response.status_code for response in responses) == [200] * 24 + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    assert shop.stock_of(product["id"]) == 93


def test_crossing_multi_line_orders_neither_deadlock_nor_oversell(app: Flask, client: FlaskClient,
                                                                  shop: Shop, auth: Auth) -> None:
    category = shop.category()
    first = shop.product(category, name="First", stock=15)
    second = shop.product(category, name="Second", stock=15)
    headers = auth.service("orders")
    line_orders = [[first["id"], second["id"]], [second["id"], first["id"]]] * 20

    def reserve_both(product_ids: list[str]) -> int:
        body = {"order_id": str(uuid.uuid4()), "ttl_seconds": 600,
                "items": [{"product_id": product_id, "quantity": 1} for product_id in product_ids]}
        return requests.post(f"{base_url}/internal/reservations", json=body, headers=headers, timeout=60).status_code

    with serve_wsgi(app) as base_url:
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(reserve_both, line_orders))
    assert statuses.count(201) == 15 and statuses.count(409) == 25
    assert shop.stock_of(first["id"]) == 0 and shop.stock_of(second["id"]) == 0
    assert reserved_units(app) == 30


def test_concurrent_expiry_jobs_return_each_unit_once(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=30)
    for _ in range(30):
        age(app, reserve(client, auth, [(product["id"], 1)]).json["id"])
    assert shop.stock_of(product["id"]) == 0

    def expire_on_its_own_connection(_: int) -> int:
        with app.app_context(), db.engine.connect() as connection:
            return expire_due(connection, batch_size=4)

    with ThreadPoolExecutor(max_workers=4) as pool:
        expired = list(pool.map(expire_on_its_own_connection, range(4)))
    assert sum(expired) == 30
    assert shop.stock_of(product["id"]) == 30


def test_racing_commit_and_release_never_both_win(app: Flask, client: FlaskClient, shop: Shop, auth: Auth) -> None:
    product = shop.product(shop.category(), stock=20)
    reservation_ids = [reserve(client, auth, [(product["id"], 1)]).json["id"] for _ in range(20)]
    headers = auth.service("orders")
    calls = [(reservation_id, action) for reservation_id in reservation_ids for action in ("commit", "release")]
    with serve_wsgi(app) as base_url:
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(
                lambda call: (call, requests.post(f"{base_url}/internal/reservations/{call[0]}/{call[1]}",
                                                  headers=headers, timeout=60).status_code), calls))
    outcome = {call: status for call, status in statuses}
    released = 0
    for reservation_id in reservation_ids:
        pair = (outcome[(reservation_id, "commit")], outcome[(reservation_id, "release")])
        assert pair in ((200, 409), (409, 200)), pair
        released += pair[1] == 200
    assert shop.stock_of(product["id"]) == released


def test_return_puts_committed_units_back_once(client: FlaskClient, shop: Shop, auth: Auth) -> None:
    service = auth.service("orders")
    product = shop.product(shop.category(), stock=5)
    committed = reserve(client, auth, [(product["id"], 2)]).json
    active = reserve(client, auth, [(product["id"], 1)]).json
    path = "/internal/reservations/{}/{}"
    assert client.post(path.format(committed["id"], "commit"), headers=service).status_code == 200
    assert shop.stock_of(product["id"]) == 2
    returned = client.post(path.format(committed["id"], "return"), headers=service)
    assert returned.status_code == 200 and returned.json["status"] == "returned"
    again = client.post(path.format(committed["id"], "return"), headers=service)
    assert again.status_code == 200 and again.json == returned.json
    assert shop.stock_of(product["id"]) == 4
    assert client.post(path.format(committed["id"], "commit"), headers=service).status_code == 409
    assert client.post(path.format(active["id"], "return"), headers=service).status_code == 409
    assert client.post(path.format(uuid.uuid4(), "return"), headers=service).status_code == 404
    assert client.post(path.format(committed["id"], "return"), headers=shop.customer).status_code == 403
    assert shop.stock_of(product["id"]) == 4
