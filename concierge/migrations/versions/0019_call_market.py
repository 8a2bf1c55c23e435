"""call.market and planned_call.market: the shop's market kept beside each call and planned call,
and an index of the open calls by market, language and moment (with what the queue's health
counts, on PostgreSQL)

The dashboard's queue health grouped the open calls and the call log by their shop's market, so
it hash-joined all shops several times a request (with 100k shops: 40 of the queue scan's 75 ms,
50 of the call log's 86 ms). A shop's market never changes
(`operations.shops.ensure_shop` refuses a change), so the copy cannot go stale. Existing rows get
their shop's market.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_OPEN = "status IN ('planned', 'snoozed', 'claimed')"


def upgrade() -> None:
    for table in ('call', 'planned_call'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('market', sa.String(length=8), nullable=True))
        op.execute(f"UPDATE {table} SET market = (SELECT shop.market FROM shop WHERE shop.id = {table}.shop_id)")
    with op.batch_alter_table('call') as batch:
        batch.alter_column('market', existing_type=sa.String(length=8), nullable=False)
    with op.batch_alter_table('planned_call') as batch:
        batch.alter_column('market', existing_type=sa.String(length=8), nullable=False)
        batch.create_index('ix_planned_call_open_market', ['market', 'language', 'scheduled_at'], unique=False,
                           postgresql_include=['due_from', 'due_until', 'status', 'lease_until', 'kind'],
                           postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))


def downgrade() -> None:
    with op.batch_alter_table('planned_call') as batch:
        batch.drop_index('ix_planned_call_open_market', postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))
        batch.drop_column('market')
    with op.batch_alter_table('call') as batch:
        batch.drop_column('market')
