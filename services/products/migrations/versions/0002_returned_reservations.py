"""Reservations may be `returned`: committed units put back on sale when a paid order is cancelled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:45:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

NAME = "ck_reservations_status_known"


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a CHECK constraint in place, so the table is copied.
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_="check")
        batch_op.create_check_constraint(
            op.f(NAME), "status IN ('active', 'committed', 'released', 'expired', 'returned')")


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_="check")
        batch_op.create_check_constraint(op.f(NAME), "status IN ('active', 'committed', 'released', 'expired')")
