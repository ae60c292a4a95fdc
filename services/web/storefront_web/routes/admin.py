"""The admin console: not built yet, the blueprint keeps its place."""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
