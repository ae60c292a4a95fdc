"""Shared behaviour of every Storefront service, written once."""
