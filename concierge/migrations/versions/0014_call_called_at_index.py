"""call: an index on called_at, so the call log of a period (queue health, consultants' figures)
is read as a range instead of scanning every call ever logged

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:00:00
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_call_called_at', 'call', ['called_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_called_at', table_name='call')
