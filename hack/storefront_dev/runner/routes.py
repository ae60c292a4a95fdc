"""The services and the contract's routing table, as the chart's values state them (the chart's Ingress
renders the same table)."""
from __future__ import annotations

from pathlib import Path

from storefront_operator import topology

CHART_DIR = Path(__file__).resolve().parents[3] / "charts" / "storefront"
TOPOLOGY = topology.load(CHART_DIR)
SERVICES: tuple[str, ...] = TOPOLOGY.names
SERVICE_CLIENTS: tuple[str, ...] = TOPOLOGY.service_clients
PUBLIC_ROUTES: tuple[tuple[str, str], ...] = TOPOLOGY.routes
