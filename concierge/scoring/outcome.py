"""The trial's outcome rule: when a purchase counts as a conversion and when the trial is decided.

Kept apart from the feature code (numpy) so that every writer of the read model (`shop_state`,
ingest included) can apply the one rule without importing the model's stack.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from locales import MARKET_CODES, get_market

DEFAULT_DECISION_WINDOW_DAYS = 30  # a market without a card (as in locales/markets/_base.yaml)


def decision_window(market: str | None) -> timedelta:
    """How long after the trial's end a purchase still counts (the market card's window)."""
    return timedelta(days=get_market(market).decision_window_days if market in MARKET_CODES
                     else DEFAULT_DECISION_WINDOW_DAYS)


def decision(market: str | None, outcome: str | None, outcome_at: datetime | None,
             trial_ends_at: datetime | None) -> tuple[bool, datetime | None]:
    """(converted, decided_at): the one rule for a trial's label and the moment it is known.

    Converted: it bought no later than its market's decision window after the trial ended (a
    trial without an end date or purchase time: when its outcome says so). Decided at: the
    purchase for a converted trial; otherwise the window's end (without an end date: the
    outcome's time); None while nothing can be said. `shop_state` stores both, so reports
    count and bucket them with plain SQL.
    """
    converted = outcome == "converted" and (trial_ends_at is None or outcome_at is None
                                            or outcome_at <= trial_ends_at + decision_window(market))
    if converted:
        return True, outcome_at
    if trial_ends_at is not None:
        return False, trial_ends_at + decision_window(market)
    return False, outcome_at if outcome is not None else None


def bought_by_end(outcome: str | None, outcome_at: datetime | None, trial_ends_at: datetime | None) -> bool:
    """It bought during the trial (no later than its end); a purchase without a time counts as such."""
    return outcome == "converted" and (outcome_at is None or trial_ends_at is None or outcome_at <= trial_ends_at)


def deliberating(market: str | None, trial_ends_at: datetime | None, outcome: str | None,
                 outcome_at: datetime | None, now: datetime) -> bool:
    """The trial has ended without a purchase and its market's decision window is still open.

    Ended: `now` is at or after its end. Not bought by its end, and not bought since (a
    purchase dated after `now` is not known yet). Not decided: `now` is before the end of
    the decision window (`decision`'s decided-at for a trial that has not bought). Such a
    merchant is deliberating: a call may still win them (the deliberating model scores them).
    A trial without an end date is never deliberating.
    """
    if trial_ends_at is None or now < trial_ends_at:
        return False
    if bought_by_end(outcome, outcome_at, trial_ends_at):
        return False
    if outcome == "converted" and outcome_at is not None and outcome_at <= now:
        return False  # bought after the end: decided (inside the window or not)
    _, decided_at = decision(market, None, None, trial_ends_at)
    return now < decided_at


def days_left(market: str | None, trial_ends_at: datetime, now: datetime) -> int:
    """Whole days (rounded up) until the decision window closes; 0 once it has."""
    left = (trial_ends_at + decision_window(market) - now).total_seconds()
    return max(0, int(-(-left // 86400)))
