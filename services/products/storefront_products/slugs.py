"""URL slugs derived from names."""
from __future__ import annotations

import re
import unicodedata

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def slugify(name: str, max_length: int = 120) -> str:
    """'Café & Bar Stools' -> 'cafe-bar-stools'; empty when the name has no letter or digit."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NOT_ALPHANUMERIC.sub("-", ascii_name.lower()).strip("-")[:max_length].strip("-")
