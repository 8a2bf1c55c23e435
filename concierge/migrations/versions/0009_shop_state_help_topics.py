"""shop state: the help topics a merchant named, so a voice-of-the-merchant row drills down to its shops

The rows are emptied: `concierge init` (which runs this upgrade) refills every missing row
from history in the same command, now with the topics.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('shop_state', sa.Column('help_topics', sa.Text(), nullable=False, server_default=''))
    op.execute("DELETE FROM shop_state")


def downgrade() -> None:
    op.drop_column('shop_state', 'help_topics')
