"""durable inbox: message ids scoped to their conversation, delivery attempts, sweep indexes

A platform or client message id is unique within its conversation only: the
same web `message_id` (or Telegram `message_id`, which counts per chat) sent
from another chat is another message. `attempts` counts how often a stored
inbound message was taken up for a turn (a crash loop stops at a bound) and
how often an outbound one was handed to the platform. Partial indexes serve
the sweeps and a turn's backlog (only unanswered or unsent rows are in them,
so the hot path pays next to nothing) and delivery reports (outbound rows
with a platform id).

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_messages_unanswered', ['business_id', 'conversation_id', 'id'], "direction = 'in' AND turn_status = 'pending'"),
    ('ix_messages_unsent', ['business_id', 'conversation_id', 'id'],
     "direction = 'out' AND delivery_status IN ('queued', 'sending')"),
    ('ix_messages_out_platform_id', ['channel_message_id'], "direction = 'out' AND channel_message_id IS NOT NULL"),
]


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_channel_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_messages_conversation_id', ['business_id', 'conversation_id', 'direction', 'channel_message_id']
        )
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    for name, columns, where in INDEXES:
        op.create_index(name, 'messages', columns, unique=False, sqlite_where=sa.text(where),
                        postgresql_where=sa.text(where))


def downgrade() -> None:
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_constraint('uq_messages_conversation_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_messages_channel_id', ['business_id', 'channel', 'direction', 'channel_message_id']
        )
