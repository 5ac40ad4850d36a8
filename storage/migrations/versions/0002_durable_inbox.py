"""durable inbox: message ids scoped to their conversation, delivery attempts, sweep indexes

A platform or client message id is unique within its conversation only: the
same web `message_id` (or Telegram `message_id`, which counts per chat) sent
from another chat is another message. `attempts` counts how often a stored
inbound message was taken up for a turn (a crash loop stops at a bound) and
how often an outbound one was handed to the platform. The two partial-looking
indexes serve the start-up and periodic sweeps.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_channel_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_messages_conversation_id', ['business_id', 'conversation_id', 'direction', 'channel_message_id']
        )
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_messages_turn_status', ['direction', 'turn_status'], unique=False)
        batch_op.create_index('ix_messages_delivery_status', ['direction', 'delivery_status'], unique=False)
        batch_op.create_index('ix_messages_channel_id', ['business_id', 'channel', 'channel_message_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_channel_id')
        batch_op.drop_index('ix_messages_delivery_status')
        batch_op.drop_index('ix_messages_turn_status')
        batch_op.drop_column('attempts')
        batch_op.drop_constraint('uq_messages_conversation_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_messages_channel_id', ['business_id', 'channel', 'direction', 'channel_message_id']
        )
