"""Storefront web: the shop's pages, server-rendered, a client of the public REST API."""
