"""user_account.session_token: a random token every web session of the user carries; a new one
(logout, password change) ends all of them. Existing users start with none, so sessions made
before this migration end and the next login sets one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 16:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('session_token')
