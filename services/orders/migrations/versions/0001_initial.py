"""Orders, their lines and the Idempotency-Key records.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 20:02:43
"""
import sqlalchemy as sa
from alembic import op

from storefront_common.db import UTCDateTime


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('principal', sa.String(length=128), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('principal', 'key', name=op.f('uq_idempotency_keys_principal_key'))
    )
    op.create_table('orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('shipping_address', sa.JSON(), nullable=False),
    sa.Column('payment_method', sa.String(length=16), nullable=False),
    sa.Column('payment_status', sa.String(length=16), nullable=False),
    sa.Column('payment_reference', sa.String(length=100), nullable=True),
    sa.Column('authorization_url', sa.Text(), nullable=True),
    sa.Column('payment_requested', sa.Boolean(), nullable=False),
    sa.Column('reservation_id', sa.Uuid(), nullable=True),
    sa.Column('reservation_attempt', sa.Integer(), nullable=False),
    sa.Column('reservation_state', sa.String(length=16), nullable=False),
    sa.Column('cart_cleared', sa.Boolean(), nullable=False),
    sa.Column('refund_requested', sa.Boolean(), nullable=False),
    sa.Column('escrow_released', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("payment_method IN ('wallet', 'paystack')", name=op.f('ck_orders_payment_method_known')),
    sa.CheckConstraint("payment_status IN ('pending', 'success', 'failed', 'refund_pending', 'refunded')", name=op.f('ck_orders_payment_status_known')),
    sa.CheckConstraint("reservation_state IN ('none', 'held', 'committed', 'released', 'lost')", name=op.f('ck_orders_reservation_state_known')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')", name=op.f('ck_orders_status_known')),
    sa.CheckConstraint('subtotal >= 0 AND total >= 0', name=op.f('ck_orders_amounts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('order_items',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('line_total', sa.BigInteger(), nullable=False),
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_items_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0 AND line_total >= 0', name=op.f('ck_order_items_amounts_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_items_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', 'product_id', name=op.f('pk_order_items'))
    )
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.create_index('ix_order_items_vendor_order', ['vendor_id', 'order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_index('ix_order_items_vendor_order')

    op.drop_table('order_items')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_user_created')
        batch_op.drop_index('ix_orders_status_created')

    op.drop_table('orders')
    op.drop_table('idempotency_keys')
