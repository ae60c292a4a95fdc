"""Storefront products service: categories, products, inventory, reviews and stock reservations."""
