"""The ingress routing table of the API contract (the Helm chart's Ingress renders the same table)."""
from __future__ import annotations

SERVICES = ("users", "products", "carts", "orders", "payments")

PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/v1/auth", "users"),
    ("/api/v1/users", "users"),
    ("/.well-known/jwks.json", "users"),
    ("/api/v1/categories", "products"),
    ("/api/v1/products", "products"),
    ("/api/v1/cart", "carts"),
    ("/api/v1/orders", "orders"),
    ("/api/v1/wallet", "payments"),
    ("/api/v1/payments", "payments"),
)
SIMULATOR_PREFIX = "/_paystack"


def route_for(path: str) -> str | None:
    """The service that serves `path`, or None. A prefix matches whole path segments only."""
    for prefix, service in PUBLIC_ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return None
