"""The call queue's order and the outcomes of a call attempt, as pure rules.

A consultant's next call is a callback if any is due (merchants who asked come first),
else the call with the highest expected gain per consultant-minute:

    the model's expected gain from a call  x  the chance of reaching this merchant then
    ---------------------------------------------------------------------------------
                         the expected handling time in minutes

The reach chance is the call log's own rate for the market and local hour, drawn
towards a prior while the log is thin (a Beta prior: ``prior`` counted as ``weight``
attempts), so one lucky call does not reorder the day.
"""
from __future__ import annotations

from typing import Mapping

__all__ = ["CALLBACK_FIRST", "OUTCOMES", "FINAL_OUTCOMES", "REACHED_OUTCOMES", "reach_chance", "queue_rank"]

#: Added to a callback's rank, so every due callback sorts before every audit.
CALLBACK_FIRST = 1_000_000.0
#: How a call attempt can end (the `calls complete --outcome` values, in this order).
OUTCOMES = ("reached", "no_answer", "later", "wrong_number", "not_interested", "do_not_call")
#: Outcomes that close the planned call (no_answer and later put it back in the queue).
FINAL_OUTCOMES = ("reached", "wrong_number", "not_interested", "do_not_call")
#: Outcomes where the consultant spoke to the merchant (the reach rate counts these).
REACHED_OUTCOMES = ("reached", "later", "not_interested", "do_not_call")


def reach_chance(reached: int, attempts: int, *, prior: float, weight: int) -> float:
    """The chance of reaching a merchant: the logged rate drawn towards ``prior``."""
    if attempts < 0 or reached < 0 or reached > attempts:
        raise ValueError("need 0 <= reached <= attempts")
    return (reached + prior * weight) / (attempts + weight) if attempts + weight else prior


def queue_rank(kind: str, gain: float | None, reach: float, handling_minutes: Mapping[str, int], *,
               default_gain: float) -> float:
    """Sort key of a call in the queue (higher first): callbacks, then gain per consultant-minute."""
    minutes = max(1, handling_minutes.get(kind, 10))
    value = max(0.0, default_gain if gain is None else gain) * reach / minutes
    return (CALLBACK_FIRST if kind == "callback" else 0.0) + value
