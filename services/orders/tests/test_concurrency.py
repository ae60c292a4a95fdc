"""Many buyers, little stock: the saga never sells a unit twice and never keeps money for nothing."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from services.orders.tests.shop import Shop

BUYERS = 50
UNITS = 10
PRICE = 3_000


def test_fifty_concurrent_wallet_checkouts_for_ten_units_sell_exactly_ten(shop: Shop) -> None:
    vendor = shop.user("vendor")
    product_id = shop.product(vendor, price=PRICE, stock=UNITS)
    buyers = [shop.user("customer") for _ in range(BUYERS)]
    for buyer in buyers:
        shop.add(buyer, product_id, 1)
        shop.topup(buyer, PRICE)

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        responses = list(pool.map(lambda buyer: shop.checkout(buyer), buyers))

    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == UNITS, statuses
    assert statuses.count(409) == BUYERS - UNITS, statuses
    assert all(response.json()["status"] == "paid" for response in responses if response.status_code == 201)
    assert all(response.json()["insufficient"][0]["available"] == 0
               for response in responses if response.status_code == 409)
    assert shop.stock(product_id) == 0
    balances = {buyer.id: shop.balance(buyer) for buyer in buyers}
    paid = {buyer.id for buyer, response in zip(buyers, responses) if response.status_code == 201}
    assert all(balances[buyer_id] == 0 for buyer_id in paid)
    assert all(balance == PRICE for buyer_id, balance in balances.items() if buyer_id not in paid)
    assert shop.wallet(vendor)["escrow_pending"] == UNITS * PRICE
