"""call: the first-contact-resolution verdict recorded once the call's window has ended
(fcr_resolved, and fcr_observations: the shop's observation count it was judged with), and an
index on planned_call.requested_at (the callbacks asked for in a period)

Existing calls get NULL (not recorded): the figures judge such a call live, exactly as before,
until `concierge audits plan` (or the audits worker) records its verdict
(`operations.callstats.record_fcr_verdicts`). Nothing is wrong in between, only slower.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 18:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call') as batch:
        batch.add_column(sa.Column('fcr_resolved', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('fcr_observations', sa.Integer(), nullable=True))
    op.create_index('ix_planned_call_requested_at', 'planned_call', ['requested_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_planned_call_requested_at', table_name='planned_call')
    with op.batch_alter_table('call') as batch:
        batch.drop_column('fcr_observations')
        batch.drop_column('fcr_resolved')
