"""Blueprints of the orders service: the public /api/v1/orders and the internal /internal/orders."""
