"""Pages as an anonymous visitor sees them, kept for a second: the shop window (home, catalog, product)
is the same for every visitor who is not signed in, and most of a shop's traffic is such visitors. The
products service keeps its listing for a second the same way (CATALOG_CACHE_SECONDS).

Only a page with no per-visitor content is kept: the visitor is not signed in, has no message waiting,
and the page carries no form token (a page with a form is never kept)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

FORM_TOKEN = b'name="csrf_token"'


class PageCache:
    def __init__(self, seconds: float, size: int = 1024) -> None:
        self.seconds = seconds
        self.size = size
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: str, page: bytes) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + self.seconds, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

