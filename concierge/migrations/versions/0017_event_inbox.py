"""event inbox: webhook events acknowledged in queued mode (CONCIERGE_EVENTS_QUEUED) wait here
until `concierge events worker` applies them and deletes them in the same transaction

A new, empty table: nothing to fill for existing rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 18:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import concierge.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_inbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('shop', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('creates_shop', sa.Boolean(), nullable=False),
    sa.Column('market', sa.String(length=2), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', concierge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', concierge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_inbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_event_inbox_event_id'))
    )
    op.create_index(op.f('ix_event_inbox_shop'), 'event_inbox', ['shop'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_event_inbox_shop'), table_name='event_inbox')
    op.drop_table('event_inbox')
