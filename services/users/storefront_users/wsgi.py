"""gunicorn storefront_users.wsgi:app"""
from .app import create_app

app = create_app()
