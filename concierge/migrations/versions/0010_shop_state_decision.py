"""shop state: the decision rule stored (converted in the market's window, and when it was decided),
so the cohort and rolling-rate reports count and bucket with plain, indexed SQL

The new columns are filled from the row's own market, outcome and dates with the market
cards' decision windows (the rule of `scoring.outcome.decision`); `concierge state rebuild`
recomputes them from history like every other column.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:30:00
"""
from alembic import op
import sqlalchemy as sa

from concierge.db import UTCDateTime
from locales import MARKET_CODES, get_market


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

DEFAULT_WINDOW_DAYS = 30


def _window_end(dialect: str, days: int) -> str:
    if dialect == "postgresql":
        return f"trial_ends_at + interval '{int(days)} days'"
    # the stored text's own fraction kept ("YYYY-MM-DD HH:MM:SS.ffffff", as SQLAlchemy writes it)
    return f"(strftime('%Y-%m-%d %H:%M:%S', trial_ends_at, '+{int(days)} days') || substr(trial_ends_at, 20))"


def upgrade() -> None:
    with op.batch_alter_table('shop_state') as batch:
        batch.add_column(sa.Column('converted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('decided_at', UTCDateTime(), nullable=True))
        batch.create_index('ix_shop_state_decided_at', ['decided_at'], unique=False)
    dialect = op.get_bind().dialect.name
    windows = {m: get_market(m).decision_window_days for m in MARKET_CODES}

    def by_market(fmt) -> str:
        whens = " ".join(f"WHEN market = '{m}' THEN {fmt(d)}" for m, d in windows.items())
        return f"CASE {whens} ELSE {fmt(DEFAULT_WINDOW_DAYS)} END"

    window_end = by_market(lambda d: _window_end(dialect, d))
    if dialect == "postgresql":
        within = f"outcome_at <= {window_end}"
    else:  # SQLite keeps UTC text: compare as julian days, as the reports did before
        within = f"julianday(outcome_at) - julianday(trial_ends_at) <= {by_market(str)}"
    converted = (f"(outcome = 'converted' AND (trial_ends_at IS NULL OR outcome_at IS NULL OR {within}))")
    op.execute(f"UPDATE shop_state SET converted = CASE WHEN {converted} THEN TRUE ELSE FALSE END")
    op.execute(f"""UPDATE shop_state SET decided_at = CASE
        WHEN converted THEN outcome_at
        WHEN trial_ends_at IS NOT NULL THEN {window_end}
        WHEN outcome IS NOT NULL THEN outcome_at
        ELSE NULL END""")


def downgrade() -> None:
    with op.batch_alter_table('shop_state') as batch:
        batch.drop_index('ix_shop_state_decided_at')
        batch.drop_column('decided_at')
        batch.drop_column('converted')
