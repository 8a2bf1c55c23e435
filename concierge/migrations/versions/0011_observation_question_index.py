"""observation: an index on (question, observed_at), so the answers to one question in a period
(the voice of the merchant's trend and its most recent examples) are read along it instead of
scanning every observation

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:40:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_observation_question_time', 'observation', ['question', 'observed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_observation_question_time', table_name='observation')
