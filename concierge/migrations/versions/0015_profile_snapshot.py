"""profile snapshot: each shop's folded profile kept, so its page, the API's profile and its
picture read one row instead of replaying every observation

The rows are written by `concierge init` (which runs this upgrade, then rebuilds the read
model from history when a shop has no snapshot) or `concierge state rebuild`, and kept
current by every change to a shop after that. A shop without a row is folded from its
observations as before, so nothing is wrong in between, only slower.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:20:00
"""
import sqlalchemy as sa
from alembic import op

import concierge.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('profile_snapshot',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('last_call_at', concierge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('observations', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', concierge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_profile_snapshot_shop_id_shop'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_profile_snapshot'))
    )


def downgrade() -> None:
    op.drop_table('profile_snapshot')
