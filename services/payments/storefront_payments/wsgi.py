"""The WSGI entry point: python -m storefront_common.serve storefront_payments.wsgi:app"""
from .app import create_app

app = create_app()
