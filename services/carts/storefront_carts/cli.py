"""Periodic jobs; the chart runs them as CronJobs."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .carts import purge_expired


@click.command("purge-expired-carts")
@with_appcontext
def purge_expired_carts_command() -> None:
    """Delete every cart untouched for longer than CART_TTL_SECONDS."""
    click.echo(f"purged {purge_expired()} expired carts")
