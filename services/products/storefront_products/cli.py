"""Periodic jobs and set-up commands, run as `flask --app storefront_products.wsgi <command>`."""
from __future__ import annotations

import uuid

import click
from flask.cli import with_appcontext

from storefront_common.timeutil import utcnow

from . import store
from .catalog_generator import CatalogSize
from .dependencies import db, deps
from .reservations import expire_due
from .seed import seed_demo


@click.command("expire-reservations")
@with_appcontext
def expire_reservations_command() -> None:
    """Return the units of every active reservation past its expiry (the chart runs this as a CronJob)."""
    batch_size = deps().settings.expire_batch_size
    with db.engine.connect() as connection:
        expired = expire_due(connection, batch_size)
    click.echo(f"expired {expired} reservation(s)")


@click.command("seed-demo")
@click.option("--vendor-id", type=click.UUID, required=True, help="The demo vendor who owns every product")
@with_appcontext
def seed_demo_command(vendor_id: uuid.UUID) -> None:
    """Create demo categories and products; running it again changes nothing."""
    created = seed_demo(db.session, vendor_id)
    click.echo(f"created {created.categories} categor(y/ies) and {created.products} product(s)")


@click.command("load-catalog")
@click.option("--products", type=click.IntRange(min=1), required=True)
@click.option("--categories", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--vendors", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True, help="The same seed generates the same catalogue")
@with_appcontext
def load_catalog_command(products: int, categories: int, vendors: int, seed: int) -> None:
    """Bulk-load a generated catalogue (benchmarks, load tests); COPY on PostgreSQL. Run it on an empty database:
    the generated category slugs would clash with existing ones."""
    size = CatalogSize(products=products, categories=categories, vendors=vendors, seed=seed)
    with db.engine.begin() as connection:
        store.load_catalog(connection, size, utcnow())
    click.echo(f"loaded {categories} categor(y/ies) and {products} product(s)")
