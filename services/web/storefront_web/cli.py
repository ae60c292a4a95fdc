"""Periodic jobs, as flask commands (the chart runs them as CronJobs)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from storefront_common.timeutil import utcnow

from . import store


@click.command("purge-expired-sessions")
@with_appcontext
def purge_expired_sessions_command() -> None:
    """Delete sessions older than SESSION_TTL_SECONDS (their refresh tokens expire at users on their own)."""
    click.echo(f"deleted {store.delete_expired_sessions(utcnow())} expired sessions")
