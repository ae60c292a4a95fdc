"""Storefront carts service: one cart per user, priced live from the products service."""
