"""The WSGI entry point: python -m storefront_common.serve storefront_web.wsgi:app"""
from __future__ import annotations

from .app import create_app

app = create_app()
