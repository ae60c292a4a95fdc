"""The demo catalog: a demo vendor account (through the API) and its products (the products seed command)."""
from __future__ import annotations

import requests

from .config import DEMO_VENDOR_EMAIL, DEMO_VENDOR_PASSWORD
from .platform import LocalPlatform


def demo_vendor_id(public_url: str) -> str:
    registration = {"email": DEMO_VENDOR_EMAIL, "password": DEMO_VENDOR_PASSWORD, "first_name": "Demo",
                    "last_name": "Vendor", "role": "vendor", "business_name": "Storefront Demo Goods"}
    created = requests.post(f"{public_url}/api/v1/auth/register", json=registration, timeout=30)
    if created.status_code not in (201, 409):
        raise RuntimeError(f"could not register the demo vendor: {created.status_code} {created.text[:200]}")
    login = requests.post(f"{public_url}/api/v1/auth/login", timeout=30,
                          json={"email": DEMO_VENDOR_EMAIL, "password": DEMO_VENDOR_PASSWORD})
    login.raise_for_status()
    me = requests.get(f"{public_url}/api/v1/users/me", timeout=30,
                      headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    me.raise_for_status()
    return str(me.json()["id"])


def seed_demo_catalog(platform: LocalPlatform) -> None:
    vendor_id = demo_vendor_id(platform.config.public_url)
    if platform.run_job("products", "seed-demo", "--vendor-id", vendor_id) != 0:
        raise RuntimeError("seeding the demo catalog failed")
