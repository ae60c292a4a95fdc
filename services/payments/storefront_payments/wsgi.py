"""gunicorn storefront_payments.wsgi:app"""
from .app import create_app

app = create_app()
