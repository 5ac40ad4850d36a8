"""sales keep the order they belong to: one shared reference for every line of an order

`order_id` stays the idempotency key of a line (unique; "<order>-<n>" for a
line of an order of several); `order_ref` is the order itself, the same on
every line, so the owner sees which lines were bought together. Rows written
before it get their own `order_id` (a one-line order) or the part before the
line number.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_ref', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_sales_order_ref', ['business_id', 'order_ref'], unique=False)
    op.execute("UPDATE sales SET order_ref = order_id WHERE order_ref IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_ref')
        batch_op.drop_column('order_ref')
