"""Which survey questions a merchant is asked, and in what order: the one rule (pure).

`plan_survey` splits the questions the survey may ask in a market into three parts:

- `ask`: the short default part. The questions still unknown that the schema marks `core`
  (and every `survey_required` one), ordered by what matters most at the shop's stage
  (`matters_at`), then in schema order; at most `limit` of them are shown at first.
- `have`: what the profile already knows (trial data, a call, an earlier answer): shown
  pre-filled as "we have this, change it if wrong", never asked again.
- `more`: the rest, under an optional "tell us more".

A follow-up question (one with skip logic) whose condition does not hold yet on what is
known waits right after the question it depends on, in whichever part that one is, and is
not counted: the page shows it as soon as the merchant gives the answer that calls for it.
A follow-up whose condition already holds is an ordinary unknown question.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .schema import Question, Schema, evaluate_condition

#: at most this many questions on the survey's default part (issue 16: "about five minutes")
CORE_LIMIT = 12


@dataclass(frozen=True)
class SurveyPlan:
    """The survey's three parts, each in the order it is shown (keys: `questions`)."""

    ask: tuple[Question, ...]
    have: tuple[Question, ...]
    more: tuple[Question, ...]
    waiting: frozenset[str]  # follow-ups shown only once their condition holds

    @property
    def questions(self) -> tuple[Question, ...]:
        return self.ask + self.have + self.more

    def shown_at_first(self) -> list[Question]:
        """The default part's questions visible before the merchant answers anything."""
        return [q for q in self.ask if q.key not in self.waiting]


def _known(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def plan_survey(schema: Schema, market: str | None, known: Mapping[str, Any], *, stage: str | None = None,
                limit: int = CORE_LIMIT) -> SurveyPlan:
    """Split the survey into what to ask first, what we have, and what may wait (see the module).

    `known` is what the profile knows (question -> value), `stage` the shop's stage on the
    launch track (`Profile.readiness.stage`), or None.
    """
    questions = schema.survey_questions(market)
    keys = {q.key for q in questions}
    order = {q.key: i for i, q in enumerate(questions)}
    have: list[Question] = []
    candidates: list[Question] = []
    waiting: dict[str, list[Question]] = {}  # trigger key -> its follow-ups not yet called for
    for q in questions:
        if _known(known.get(q.key)):
            have.append(q)
            continue
        state = evaluate_condition(q.relevant, known) if q.relevant else True
        triggers = [k for k in q.condition_questions() if k in keys]
        if state is not True and triggers:
            waiting.setdefault(max(triggers, key=order.__getitem__), []).append(q)
        elif state is False:
            continue  # ruled out by something the survey does not ask: never shown
        else:
            candidates.append(q)

    def priority(q: Question) -> tuple[int, int]:
        return (0 if stage is not None and stage in q.matters_at else 1, order[q.key])

    candidates.sort(key=priority)
    chosen: set[str] = {q.key for q in candidates if q.survey_required}
    for q in candidates:
        if len(chosen) >= limit:
            break
        if q.core:
            chosen.add(q.key)
    ask = [q for q in candidates if q.key in chosen]
    more = [q for q in candidates if q.key not in chosen]

    placed: set[str] = set()

    def expand(items: list[Question]) -> list[Question]:
        out: list[Question] = []
        for q in items:
            out.append(q)
            placed.add(q.key)
            out.extend(expand(waiting.get(q.key, [])))
        return out

    ask_x, have_x, more_x = expand(ask), expand(have), expand(more)
    # a follow-up whose trigger is itself never shown (a cycle the loader forbids): last, not lost
    more_x += [q for qs in waiting.values() for q in qs if q.key not in placed]
    waiting_keys = frozenset(q.key for qs in waiting.values() for q in qs)
    return SurveyPlan(tuple(ask_x), tuple(have_x), tuple(more_x), waiting_keys)
