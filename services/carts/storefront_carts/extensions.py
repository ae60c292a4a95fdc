"""The service's Flask extensions, created once and bound in create_app."""
from __future__ import annotations

from storefront_common.db import make_db

db = make_db()
