"""Searches at scale: an index of the names' full text.

It finds the products whose name matches a search without reading the other matches, so a broad search ranks
a bounded set of candidates, name matches first (store.RANKED_CANDIDATES). PostgreSQL only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 20:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ACTIVE = sa.text("is_active")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_products_active_name_search", "products", [sa.text("to_tsvector('english'::regconfig, name)")],
                    postgresql_using="gin", postgresql_where=ACTIVE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_products_active_name_search", "products")
