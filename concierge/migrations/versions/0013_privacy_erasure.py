"""privacy: the erasure audit (privacy_erasure: who erased which shop's personal data, when, why,
how many rows; no personal data) and a role on API tokens (only admin tokens export or erase)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 15:40:00
"""
from alembic import op
import sqlalchemy as sa
import concierge.db
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text  # noqa: F401  (autogenerate writes Text() for JSONB)


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacy_erasure',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('platform_id', sa.String(length=64), nullable=False),
    sa.Column('erased_at', concierge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_privacy_erasure_shop_id_shop'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_erasure'))
    )
    with op.batch_alter_table('privacy_erasure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_erasure_shop_id'), ['shop_id'], unique=False)
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), server_default='integration', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('privacy_erasure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_erasure_shop_id'))
    op.drop_table('privacy_erasure')
