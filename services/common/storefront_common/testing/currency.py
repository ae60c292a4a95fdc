"""A running service's shop currency changed for the length of a block, as an operator reconfiguring it would."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from ..dependencies import Dependencies, current


@contextmanager
def configured_currency(app: Flask, currency: str) -> Iterator[None]:
    """Run the block with the app's STOREFRONT_CURRENCY set to `currency`, then restore it.

    A product or cart line made inside the block is what a shop holds after its currency changed: in a
    currency its services no longer settle.
    """
    settings = current(Dependencies, app).settings
    previous = settings.storefront_currency
    settings.storefront_currency = currency
    try:
        yield
    finally:
        settings.storefront_currency = previous
