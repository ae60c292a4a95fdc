"""Periodic jobs and set-up commands, run as `flask --app storefront_products.wsgi <command>`."""
from __future__ import annotations

import uuid

import click
from flask.cli import with_appcontext

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
