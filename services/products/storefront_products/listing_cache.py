"""Public listing pages kept for a second per worker: the hottest read of a shop, served without the database.

A listing is the same for every caller (active products only), so a page can be shared. It may show stock
up to `CATALOG_CACHE_SECONDS` old; what can really be bought is decided by the reservation, never by it.
The same class keeps the listing's estimated totals for `CATALOG_ESTIMATE_SECONDS`.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ListingCache(Generic[T]):
    def __init__(self, seconds: float, max_pages: int = 512) -> None:
        self.seconds = seconds
        self.max_pages = max_pages
        self._pages: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: str, render: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            cached = self._pages.get(key)
            if cached is not None and cached[0] > now:
                self._pages.move_to_end(key)
                return cached[1]
        page = render()
        with self._lock:
            self._pages[key] = (now + self.seconds, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return page

