"""survey_link: started_at and finished_at, so the survey completion report can measure time
to finish (the draft's own time is overwritten on every save); contact_preference: the days
of the week a merchant prefers to be called (issue 16, items 4 and 5)

Existing links: started_at is the earliest moment stored for them (the draft's or the
submission's), finished_at the last submission: the best the stored data can tell. The
preferred hours and channel stay profile answers (needs.preferred_call_time,
needs.preferred_contact); only the days have no question, so they live here.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 21:10:00
"""
import sqlalchemy as sa
from alembic import op

import concierge.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_link') as batch:
        batch.add_column(sa.Column('started_at', concierge.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('finished_at', concierge.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE survey_link SET finished_at = submitted_at WHERE submitted_at IS NOT NULL")
    op.execute("UPDATE survey_link SET started_at = CASE "
               "WHEN draft_saved_at IS NULL THEN submitted_at "
               "WHEN submitted_at IS NULL OR draft_saved_at < submitted_at THEN draft_saved_at "
               "ELSE submitted_at END "
               "WHERE draft_saved_at IS NOT NULL OR submitted_at IS NOT NULL")
    op.create_table('contact_preference',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.String(length=20), nullable=True),
    sa.Column('updated_at', concierge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_contact_preference_shop_id_shop'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_contact_preference'))
    )


def downgrade() -> None:
    op.drop_table('contact_preference')
    with op.batch_alter_table('survey_link') as batch:
        batch.drop_column('finished_at')
        batch.drop_column('started_at')
