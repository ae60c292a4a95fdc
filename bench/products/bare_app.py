"""The baseline: a bare Flask app answering one constant JSON page (the bytes of a real listing page).

gunicorn "bare_app:create_bare_app('/path/to/page.json')"
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response


def create_bare_app(page_file: str) -> Flask:
    page = Path(page_file).read_bytes()
    app = Flask("bare")

    @app.get("/api/v1/products")
    def products() -> Response:
        return Response(page, mimetype="application/json")

    return app
