"""Storefront orders service: orders, their status machine and the checkout saga."""
