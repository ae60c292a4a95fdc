"""The service's Flask extensions, created once and bound in create_app."""
from __future__ import annotations

from storefront_common.db import make_db

# A checkout commits a dozen times (each saga step is durable before the next HTTP call). Expiring
# every loaded row at each commit made it re-read the order and its lines four times; instead, every
# write goes through status.py, which updates the loaded order from the row it wrote (or expires it).
db = make_db(expire_on_commit=False)


def end_transaction() -> None:
    """Called before waiting on another service, so no pooled connection idles inside a transaction."""
    db.session.commit()
