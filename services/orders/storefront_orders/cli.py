"""Periodic jobs as flask commands (the chart runs them as CronJobs, the local runner on a timer)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .dependencies import deps
from .expiry import sweep


@click.command("expire-unpaid-orders")
@with_appcontext
def expire_unpaid_orders_command() -> None:
    """Cancel orders unpaid after PAYMENT_TIMEOUT_SECONDS (stock released), then retry any commit,
    release, cart clear, refund or escrow release that a dependency outage left undone."""
    settings = deps().settings
    report = sweep(settings.payment_timeout_seconds)
    click.echo(f"expired={report.expired} finished={report.finished} deferred={report.deferred}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(expire_unpaid_orders_command)
