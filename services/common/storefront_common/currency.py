"""The shop's one currency: every price, cart, order and payment of a Storefront is in it.

It is decided once, by STOREFRONT_CURRENCY (CommonSettings.storefront_currency), which every service reads
the same way: products refuses a product in another currency, carts refuses to hold one, orders refuses to
check one out and payments settles nothing else, each with the same 422 from `currency_refusal`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .errors import ProblemError, validation_error

# What Paystack settles (and the Storefront resource allows): an ISO 4217 code, amounts in its minor unit.
Currency = Literal["NGN", "GHS", "ZAR", "KES", "USD"]


def shop_currency() -> Currency:
    """The currency of the Storefront this request runs in (CommonSettings.storefront_currency)."""
    from .dependencies import Dependencies, current  # settings imports Currency from here: no cycle at import

    currency: Currency = current(Dependencies).settings.storefront_currency
    return currency


def currency_refusal(priced: Iterable[tuple[str, str]], field: str = "currency") -> ProblemError | None:
    """The 422 to answer when any (what, its currency) is not in the shop's currency; None when all are."""
    expected = shop_currency()
    messages = [f"{what} is priced in {currency}; this shop sells and settles in {expected} only."
                for what, currency in priced if currency != expected]
    if not messages:
        return None
    detail = messages[0] if len(messages) == 1 else \
        f"{len(messages)} items are not priced in {expected}, the only currency this shop sells and settles in."
    return validation_error([{"field": field, "message": message} for message in messages], detail)


def require_shop_currency(priced: Iterable[tuple[str, str]], field: str = "currency") -> None:
    """Refuse (422) amounts in another currency than the shop's."""
    refusal = currency_refusal(priced, field)
    if refusal is not None:
        raise refusal
