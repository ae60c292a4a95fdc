"""Alembic per service: the environment lives here once, each service keeps only its versions/."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import MetaData, create_engine, pool, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from .dependencies import Dependencies, current

ENV_DIR = Path(__file__).parent / "alembic"


def alembic_config(database_url: str, versions_dir: Path, metadata: MetaData) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ENV_DIR))
    # Split on os.pathsep, not on spaces and commas (deprecated by alembic): a path with a space stays whole.
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["target_metadata"] = metadata
    return config


MIGRATIONS_EXTENSION = "storefront.migrations"


class SchemaRevision:
    """Whether the database's schema is one this release can serve: at its head, or at a revision it does not
    know (a newer release migrated it; migrations only add, so an older pod keeps serving during a rollout).
    Unmigrated or at one of its own older revisions, the service is not ready: a pod must not take requests
    before its migration Job has run, or they fail on tables that do not exist yet."""

    def __init__(self, versions_dir: Path) -> None:
        scripts = ScriptDirectory.from_config(alembic_config("", versions_dir, MetaData()))
        self.older = frozenset(revision.revision for revision in scripts.walk_revisions()) - set(scripts.get_heads())
        self._servable = not scripts.get_heads()  # a service without migrations has no schema to wait for

    def servable(self, session: Session) -> bool:
        """Asks the database until the schema is first seen servable, then never again."""
        if self._servable:
            return True
        try:
            stored = set(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except (ProgrammingError, OperationalError):  # no alembic_version table: never migrated
            stored = set()
        session.rollback()  # the read's transaction ends here, whatever it found
        self._servable = bool(stored) and not stored & self.older
        return self._servable


@dataclass(frozen=True)
class MigrationPlan:
    versions_dir: Path
    after_migrate: Callable[[], None] | None = None

    @functools.cached_property
    def schema(self) -> SchemaRevision:
        return SchemaRevision(self.versions_dir)


def schema_servable(app: Flask, session: Session) -> bool:
    return _plan(app).schema.servable(session)


def _plan(app: Flask) -> MigrationPlan:
    plan: MigrationPlan = app.extensions[MIGRATIONS_EXTENSION]
    return plan


def _config_for(app: Flask) -> Config:
    return alembic_config(app.config["SQLALCHEMY_DATABASE_URI"], _plan(app).versions_dir,
                          current(Dependencies, app).db.metadata)


def upgrade(app: Flask) -> None:
    """Migrate to head, then run the service's after_migrate step (inside the lock on PostgreSQL)."""
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    after_migrate = _plan(app).after_migrate or (lambda: None)
    if not database_url.startswith("postgresql"):
        command.upgrade(_config_for(app), "head")
        after_migrate()
        return
    # Several workers (AUTO_MIGRATE) or pods may start at once: one migrates, the others wait, then find
    # nothing left to do. Advisory locks are per database, so services sharing a server do not wait on each other.
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(hashtext('storefront-migrations'))"))
            lock.commit()
            try:
                command.upgrade(_config_for(app), "head")
                after_migrate()
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(hashtext('storefront-migrations'))"))
                lock.commit()
    finally:
        engine.dispose()


def wait_for_database(database_url: str, timeout: float) -> None:
    """Until the database accepts a connection, or `timeout` seconds: a migration Job that starts beside its
    in-cluster server (or during a failover) waits instead of failing into the Job's growing backoff."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    deadline = time.monotonic() + timeout
    delay = 0.2
    try:
        while True:
            try:
                with engine.connect():
                    return
            except OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
    finally:
        engine.dispose()


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Apply every migration of this service, then its after_migrate step (the chart's migration Job runs this)."""
    settings = current(Dependencies).settings
    wait_for_database(current_app.config["SQLALCHEMY_DATABASE_URI"], settings.migrate_wait_seconds)
    upgrade(current_app)


@click.command("make-migration")
@click.argument("message")
@with_appcontext
def make_migration_command(message: str) -> None:
    """Write a new migration by comparing the models with the database."""
    command.revision(_config_for(current_app), message=message, autogenerate=True)
