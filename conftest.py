"""Fixtures every suite may use: a private PostgreSQL, signing keys and tokens, a JWKS over HTTP
(storefront_common.testing.plugin); the Go-built control plane (storefront_dev.pytest_controlplane)."""
pytest_plugins = ["storefront_common.testing.plugin", "storefront_dev.pytest_controlplane"]
