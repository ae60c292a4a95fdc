"""Demo catalogue for local runs: a few categories and about twenty products of one demo vendor."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import store
from .models import Category, Product
from .slugs import slugify

DEMO_CATEGORIES: list[dict[str, Any]] = [
    {"name": "Phones & Tablets", "description": "Smartphones, tablets and accessories",
     "attributes": ["brand", "storage", "colour"]},
    {"name": "Fashion", "description": "Clothing, shoes and fabrics", "attributes": ["size", "colour", "material"]},
    {"name": "Home & Kitchen", "description": "Appliances and cookware", "attributes": ["brand", "capacity"]},
    {"name": "Groceries", "description": "Food and drinks", "attributes": ["weight", "origin"]},
    {"name": "Beauty", "description": "Skin, hair and body care", "attributes": ["brand", "volume"]},
]

# (category slug, name, description, price in kobo, stock, attributes)
DEMO_PRODUCTS: list[tuple[str, str, str, int, int, dict[str, Any]]] = [
    ("phones-tablets", "Tecno Spark 20 Pro", "6.78-inch display, 256 GB, 5000 mAh battery", 21_500_000, 25,
     {"brand": "Tecno", "storage": "256GB", "colour": "Frosty Ivory"}),
    ("phones-tablets", "Infinix Hot 40i", "6.56-inch display, 128 GB, 32 MP selfie camera", 14_990_000, 40,
     {"brand": "Infinix", "storage": "128GB", "colour": "Starlit Black"}),
    ("phones-tablets", "Samsung Galaxy A15", "Super AMOLED screen, 128 GB", 23_800_000, 15,
     {"brand": "Samsung", "storage": "128GB", "colour": "Blue Black"}),
    ("phones-tablets", "Oraimo FreePods 4", "Wireless earbuds with noise cancellation", 2_850_000, 120,
     {"brand": "Oraimo", "colour": "Black"}),
    ("phones-tablets", "20000 mAh Power Bank", "Fast charging, two USB ports and USB-C", 1_750_000, 80,
     {"brand": "Oraimo"}),
    ("fashion", "Ankara Print Maxi Dress", "Hand-finished wax print cotton dress", 1_800_000, 30,
     {"size": "M", "colour": "Multicolour", "material": "Cotton"}),
    ("fashion", "Men's Agbada Set", "Three-piece embroidered agbada", 6_500_000, 10,
     {"size": "L", "colour": "Sky Blue", "material": "Brocade"}),
    ("fashion", "Leather Palm Slippers", "Handmade leather slippers from Kano", 950_000, 60,
     {"size": "43", "colour": "Brown", "material": "Leather"}),
    ("fashion", "Adire Tie-Dye Shirt", "Indigo adire shirt from Abeokuta", 1_250_000, 35,
     {"size": "XL", "colour": "Indigo", "material": "Cotton"}),
    ("home-kitchen", "Binatone Blender 1.5 L", "Two speeds with a grinding mill", 3_200_000, 20,
     {"brand": "Binatone", "capacity": "1.5L"}),
    ("home-kitchen", "Non-stick Pot Set", "Five pots with glass lids", 4_500_000, 12,
     {"capacity": "5 pieces"}),
    ("home-kitchen", "Standing Fan 18-inch", "Three speeds, oscillating", 3_900_000, 18,
     {"brand": "Qasa"}),
    ("home-kitchen", "Rechargeable Lantern", "Solar and mains charging, 12 hours of light", 1_100_000, 50,
     {"brand": "Lontor"}),
    ("groceries", "Ofada Rice 5 kg", "Locally grown unpolished rice", 1_200_000, 100,
     {"weight": "5kg", "origin": "Ogun"}),
    ("groceries", "Palm Oil 5 L", "Fresh red palm oil", 950_000, 70, {"weight": "5L", "origin": "Imo"}),
    ("groceries", "Garri Ijebu 10 kg", "Fine, crisp white garri", 1_050_000, 90,
     {"weight": "10kg", "origin": "Ijebu"}),
    ("groceries", "Honey 1 L", "Raw honey from the Jos plateau", 650_000, 45, {"weight": "1L", "origin": "Plateau"}),
    ("beauty", "Shea Butter 500 g", "Unrefined shea butter", 450_000, 150, {"volume": "500g"}),
    ("beauty", "Black Soap 250 g", "Traditional ose dudu", 250_000, 200, {"volume": "250g"}),
    ("beauty", "Coconut Hair Oil", "Cold-pressed coconut oil for hair", 380_000, 0, {"brand": "Natures Gentle"}),
]


# Each demo product's picture, drawn by hack/storefront_dev/demo_images.py and served by the web service at the
# site's root (the gateway's and the Ingress's `/`). A root-relative URL stays right on any host and port.
DEMO_IMAGES_PATH = "/static/demo/"


def demo_image_file(slug: str) -> str:
    return f"{slug}.svg"


def demo_image_urls(slug: str) -> list[str]:
    return [DEMO_IMAGES_PATH + demo_image_file(slug)]


@dataclass(frozen=True)
class SeedResult:
    categories: int
    products: int


def _ensure_categories(session: Session) -> tuple[dict[str, Category], int]:
    existing = {category.slug: category for category in store.all_categories(session)}
    created = 0
    for spec in DEMO_CATEGORIES:
        slug = slugify(spec["name"])
        if slug not in existing:
            existing[slug] = Category(slug=slug, **spec)
            store.add(session, existing[slug])
            created += 1
    session.flush()
    return existing, created


def seed_demo(session: Session, vendor_id: uuid.UUID) -> SeedResult:
    """Idempotent: categories are matched by slug, products by vendor and slug. A demo product without any
    picture (one seeded before the demo catalog had pictures) gets its picture."""
    categories, created_categories = _ensure_categories(session)
    present = {product.slug: product for product in
               session.scalars(select(Product).where(Product.vendor_id == vendor_id))}
    created_products = 0
    for category_slug, name, description, price, stock, attributes in DEMO_PRODUCTS:
        slug = slugify(name, max_length=220)
        if slug in present:
            if not present[slug].images:
                present[slug].images = demo_image_urls(slug)
            continue
        store.add(session, Product(name=name, slug=slug, description=description, price=price, currency="NGN",
                                   stock=stock, category_id=categories[category_slug].id, vendor_id=vendor_id,
                                   attributes=attributes, images=demo_image_urls(slug), is_active=True))
        created_products += 1
    session.commit()
    return SeedResult(created_categories, created_products)
