"""Flask commands: the periodic purge (a CronJob in the chart) and the first admin on demand."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import with_appcontext

from storefront_common.timeutil import utcnow

from . import store
from .accounts import ensure_first_admin
from .dependencies import deps


def purge_expired_tokens() -> dict[str, int]:
    """Delete what can no longer be used: expired refresh and one-time tokens, used one-time tokens,
    and login failures older than the throttling window."""
    now = utcnow()
    window = timedelta(seconds=deps().settings.login_failure_window_seconds)
    deleted = store.delete_unusable_rows(now, failures_before=now - window)
    store.commit()
    return deleted


@click.command("purge-expired-tokens")
@with_appcontext
def purge_expired_tokens_command() -> None:
    """Delete expired refresh/verification/reset tokens and old login failures."""
    for table, count in purge_expired_tokens().items():
        click.echo(f"{table}: {count} deleted")


@click.command("create-first-admin")
@with_appcontext
def create_first_admin_command() -> None:
    """Create the STOREFRONT_ADMIN_EMAIL account if it does not exist (also done at start-up)."""
    ensure_first_admin(deps().settings)


def register_commands(app: Flask) -> None:
    app.cli.add_command(purge_expired_tokens_command)
    app.cli.add_command(create_first_admin_command)
