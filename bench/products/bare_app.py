"""The baseline: a bare Flask app answering one constant JSON page (the bytes of a real listing page).

BARE_PAGE_FILE=/path/to/page.json python -m storefront_common.serve bare_app:create_bare_app --factory
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response


def create_bare_app() -> Flask:
    page = Path(os.environ["BARE_PAGE_FILE"]).read_bytes()
    app = Flask("bare")

    @app.get("/api/v1/products")
    def products() -> Response:
        return Response(page, mimetype="application/json")

    return app
