"""A generated catalogue for benchmarks and load tests: realistic names and descriptions, deterministic per seed.

store.load_catalog writes it (COPY on PostgreSQL); `flask load-catalog` and bench/products use it.
"""
from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .slugs import slugify

CATEGORY_NAMES = ["Phones", "Laptops", "Tablets", "Televisions", "Audio", "Cameras", "Gaming", "Fashion", "Shoes",
                  "Watches", "Jewellery", "Bags", "Kitchen", "Appliances", "Furniture", "Bedding", "Lighting",
                  "Garden", "Tools", "Automotive", "Groceries", "Drinks", "Beauty", "Hair Care", "Health",
                  "Baby", "Toys", "Books", "Stationery", "Sports", "Fitness", "Outdoors", "Pet Supplies",
                  "Office", "Music", "Art Supplies", "Party", "Travel", "Security", "Solar & Power"]
BRANDS = ["Tecno", "Infinix", "Itel", "Samsung", "Oraimo", "Hisense", "Binatone", "Qasa", "Nexus", "Scanfrost",
          "Thermocool", "Haier", "Syinix", "Polystar", "Maxi", "Royal", "Kenwood", "Philips", "Lontor", "Eurosonic",
          "Adidas", "Nike", "Puma", "Vlisco", "Ankara House", "Zaron", "House of Tara", "Dangote", "Golden Penny",
          "Honeywell"]
ADJECTIVES = ["Classic", "Premium", "Compact", "Wireless", "Organic", "Handmade", "Smart", "Vintage", "Solar",
              "Portable", "Rechargeable", "Waterproof", "Stainless", "Foldable", "Ergonomic", "Lightweight",
              "Heavy-duty", "Slim", "Deluxe", "Mini", "Digital", "Ceramic", "Leather", "Cotton", "Bamboo",
              "Magnetic", "Adjustable", "Insulated", "Cordless", "Turbo"]
NOUNS = ["Speaker", "Blender", "Sneakers", "Backpack", "Lamp", "Kettle", "Headphones", "Dress", "Watch", "Rice",
         "Phone", "Laptop", "Tablet", "Television", "Camera", "Controller", "Keyboard", "Mouse", "Charger",
         "Power Bank", "Earbuds", "Fan", "Generator", "Inverter", "Iron", "Microwave", "Fridge", "Freezer",
         "Cooker", "Pot", "Frying Pan", "Knife Set", "Mattress", "Pillow", "Duvet", "Chair", "Desk", "Sofa",
         "Shelf", "Bulb", "Torch", "Drill", "Hammer", "Tyre", "Car Mat", "Perfume", "Lotion", "Shampoo",
         "Wig", "Sandals", "Slippers", "Handbag", "Wallet", "Belt", "Necklace", "Bracelet", "Notebook", "Pen",
         "Football", "Dumbbells", "Yoga Mat", "Tent", "Cooler", "Suitcase", "Guitar", "Drum", "Doll",
         "Puzzle", "Novel", "Cookbook", "Baby Stroller", "Diapers", "Vitamins", "Thermometer", "Router",
         "Smartwatch", "Printer", "Projector", "Solar Panel", "Battery", "CCTV Camera"]
FEATURES = ["fast charging", "a two-year warranty", "a long-lasting battery", "energy-saving design",
            "noise cancellation", "a scratch-resistant finish", "easy cleaning", "a child-safe lock",
            "premium materials", "a compact footprint", "Bluetooth 5.3", "a stainless steel body",
            "a breathable fabric", "a non-stick coating", "hand-stitched seams", "surge protection",
            "a memory foam core", "a rust-proof frame", "an anti-slip base", "an adjustable strap"]
COLOURS = ["black", "white", "silver", "navy blue", "red", "forest green", "gold", "grey", "brown", "pink"]
CITIES = ["Lagos", "Abuja", "Kano", "Ibadan", "Port Harcourt", "Enugu", "Benin City", "Kaduna"]


@dataclass(frozen=True)
class CatalogSize:
    products: int
    categories: int = 40
    vendors: int = 200
    inactive_share: float = 0.05
    seed: int = 42


def category_rows(size: CatalogSize, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(size.seed)
    names = [CATEGORY_NAMES[index % len(CATEGORY_NAMES)] + (f" {index // len(CATEGORY_NAMES) + 1}"
                                                           if index >= len(CATEGORY_NAMES) else "")
             for index in range(size.categories)]
    return [{"id": uuid.UUID(int=rng.getrandbits(128), version=4), "name": name, "slug": slugify(name, max_length=120),
             "description": f"Everything in {name.lower()}", "attributes": ["brand", "colour"],
             "created_at": now, "updated_at": now} for name in names]


def product_rows(size: CatalogSize, category_ids: list[uuid.UUID], now: datetime) -> Iterator[dict[str, Any]]:
    """Products newest first, one every 37 seconds back from `now`, in the products table's columns."""
    rng = random.Random(size.seed + 1)
    vendors = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.vendors)]
    for index in range(size.products):
        brand, noun = rng.choice(BRANDS), rng.choice(NOUNS)
        name = f"{brand} {rng.choice(ADJECTIVES)} {noun} {rng.choice('ABCDEFGHKMPSTX')}{rng.randint(1, 999)}"
        colour = rng.choice(COLOURS)
        description = (f"{name} in {colour} with {rng.choice(FEATURES)} and {rng.choice(FEATURES)}. "
                       f"A dependable {noun.lower()} from {brand}, shipped from {rng.choice(CITIES)} within "
                       f"{rng.choice((24, 48, 72))} hours.")
        rating_count = rng.randint(0, 40) if rng.random() < 0.7 else 0
        rating_sum = sum(rng.randint(1, 5) for _ in range(rating_count))
        created = now - timedelta(seconds=index * 37)
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4), "name": name,
            "slug": slugify(name, max_length=220), "description": description,
            "price": rng.randint(5, 50_000) * 1_000, "currency": "NGN",
            "stock": 0 if rng.random() < 0.08 else rng.randint(1, 500),
            "category_id": rng.choice(category_ids), "vendor_id": rng.choice(vendors),
            "attributes": {"brand": brand, "colour": colour},
            "images": [f"https://cdn.example.com/products/{index}/1.jpg"],
            "is_active": rng.random() >= size.inactive_share,
            "rating_sum": rating_sum, "rating_count": rating_count,
            "rating_average": rating_sum / rating_count if rating_count else 0.0,
            "created_at": created, "updated_at": created,
        }
