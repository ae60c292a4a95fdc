"""Money as people read and type it: the API's integer minor units (kobo) <-> `₦1,234.50`."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

SYMBOLS = {"NGN": "₦", "GHS": "GH₵", "ZAR": "R", "KES": "KSh", "USD": "$"}
MINOR_UNITS = 100  # every currency the shop may sell in has two decimals


def format_money(minor: int | None, currency: str) -> str:
    """`123450, "NGN"` -> `₦1,234.50`; a negative amount -> `−₦1,234.50`."""
    if minor is None:
        return ""
    sign = "−" if minor < 0 else ""
    units, cents = divmod(abs(int(minor)), MINOR_UNITS)
    return f"{sign}{SYMBOLS.get(currency, currency + ' ')}{units:,}.{cents:02d}"


class NotAnAmount(ValueError):
    pass


def parse_amount(text: str) -> int:
    """What a person typed (`1,234.5`, `₦ 20`) -> minor units; NotAnAmount for anything else."""
    cleaned = text.strip().replace(",", "").lstrip("".join(set("".join(SYMBOLS.values())))).strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise NotAnAmount("Enter an amount such as 1500 or 1,500.50.") from None
    if not value.is_finite() or value < 0:
        raise NotAnAmount("Enter an amount of zero or more.")
    minor = value * MINOR_UNITS
    if minor != minor.to_integral_value():
        raise NotAnAmount("Use at most two decimal places.")
    if minor > 10**15:
        raise NotAnAmount("That amount is too large.")
    return int(minor)
