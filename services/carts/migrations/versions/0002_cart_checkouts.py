"""Paid orders taken out of their buyers' carts, once each.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cart_checkouts",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_cart_checkouts")),
    )


def downgrade() -> None:
    op.drop_table("cart_checkouts")
