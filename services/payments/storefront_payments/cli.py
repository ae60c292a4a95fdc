"""Periodic jobs as flask commands (the chart's CronJob and the local runner's timer run them)."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from .reverification import reverify_pending


@click.command("reverify-payments")
@click.option("--older-than", "older_than", type=int, default=None,
              help="Only payments and payouts pending for at least this many seconds "
                   "(default: REVERIFY_OLDER_THAN_SECONDS).")
@click.option("--limit", type=int, default=200, show_default=True, help="At most this many of each per run.")
@with_appcontext
def reverify_payments_command(older_than: int | None, limit: int) -> None:
    """Verify pending Paystack payments and payouts, settle them, and re-deliver the outbox."""
    from .dependencies import deps

    seconds = deps().settings.reverify_older_than_seconds if older_than is None else older_than
    click.echo(json.dumps(reverify_pending(seconds, limit)))


@click.command("check-ledger")
@with_appcontext
def check_ledger_command() -> None:
    """Check the ledger's invariants; print each violation and exit 1 if there is any."""
    from .dependencies import db
    from .ledger import check_ledger

    violations = check_ledger(db.session)
    click.echo(json.dumps({"balanced": not violations, "violations": violations}))
    if violations:
        raise SystemExit(1)
