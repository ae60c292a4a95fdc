"""The vendor console (products, orders to fulfil): not built yet, the blueprint keeps its place."""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("vendor", __name__, url_prefix="/vendor")
