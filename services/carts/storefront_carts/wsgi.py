"""The WSGI entry point: gunicorn storefront_carts.wsgi:app"""
from __future__ import annotations

from .app import create_app

app = create_app()
