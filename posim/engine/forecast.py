"""Monte Carlo forecasts from observed daily throughput, ActionableAgile style.

Two questions, both answered by resampling the team's own recent history of
items finished per day (no estimates involved):

* :func:`when_done` — "when will these N items be done?"  Each trial draws days
  at random (with replacement) from the history and adds up their throughput
  until N items are done; the number of days drawn, added to ``start_day``, is
  that trial's finishing day.  The 85th percentile is the day by which 85 % of
  trials had finished: a promise kept 85 % of the time.
* :func:`how_many` — "how many items by day D?"  Each trial draws ``days`` days
  and adds up their throughput.  Here the percentiles follow the same
  confidence convention turned around: the 85 % value is the count that 85 %
  of trials *reached or exceeded* (the lower tail), so higher confidence means
  fewer items, as in ActionableAgile.

Percentiles are taken by the nearest-rank method over the sorted trials (no
interpolation), so every reported figure is an outcome some trial produced.

The history comes from :func:`throughput_history`: whole days only, the last
``window`` complete days before now.  The :class:`Assumptions` returned with
every :class:`Forecast` say which window and how many items were used, and a
sentence says so for the player.

With no history, or a history in which nothing was ever finished, nothing can
be forecast: :func:`when_done` returns ``math.inf`` for every percentile and
:func:`how_many` returns 0; the assumption sentence says why.  A trial that
would need more than :data:`MAX_DAYS_PER_TRIAL` days is cut off there and
counts as never finishing (``math.inf``), so a forecast never loops forever.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

PERCENTILES: Final[tuple[int, ...]] = (50, 70, 85, 95)
"""The confidence levels every forecast reports."""

DEFAULT_TRIALS: Final = 1000
"""Trials per forecast unless the caller asks otherwise."""

MAX_DAYS_PER_TRIAL: Final = 5000
"""A "when" trial that has not finished after this many days counts as never finishing."""

ForecastKind = Literal["when", "how_many"]
"""``when``: percentiles are day numbers; ``how_many``: item counts."""


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What a forecast was based on, to show alongside it."""

    window_days: int
    """Days of throughput history used."""
    items_counted: int
    """Items finished in those days."""
    throughput_mean: float
    """Mean items finished per day over the window (0 with no history)."""
    zero_days_fraction: float
    """Fraction of the window's days in which nothing was finished (0 with no history)."""
    trials: int
    """Monte Carlo trials run."""
    text: str
    """One sentence for the player, e.g. "Based on 20 items finished in the last 10 days ..."."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """The result of :func:`when_done` or :func:`how_many`."""

    kind: ForecastKind
    """``when`` (percentiles are days) or ``how_many`` (percentiles are item counts)."""
    target: float
    """Items to finish (``when``) or days ahead (``how_many``)."""
    percentiles: dict[int, float]
    """Confidence level (50, 70, 85, 95) -> day (``when``) or item count (``how_many``).

    For ``when``, ``math.inf`` means "not reachable from this history"."""
    trials: int
    """Monte Carlo trials run (0 when nothing needed simulating)."""
    assumptions: Assumptions
    """What the forecast was based on."""

    @property
    def has_data(self) -> bool:
        """Whether the history held any finished item (else the forecast is a placeholder)."""
        return self.assumptions.items_counted > 0


def throughput_history(done_days: Sequence[float], now: float, window: int) -> list[int]:
    """Items finished per whole day over the last ``window`` complete days before ``now``.

    Day ``d`` covers ``[d, d + 1)``.  The days are those from
    ``max(0, floor(now) - window)`` to ``floor(now) - 1``, oldest first; the day
    in progress is left out (it would look slow), and so are days before day 0
    (the history is shorter early in a game).  Items done outside the window
    are ignored.
    """
    if window < 0:
        raise ValueError(f"window must be at least 0 days, not {window}")
    end = math.floor(now)
    start = max(0, end - window)
    counts = [0] * max(0, end - start)
    for day in done_days:
        index = math.floor(day) - start
        if 0 <= index < len(counts):
            counts[index] += 1
    return counts


def _nearest_rank(sorted_values: Sequence[float], level: int) -> float:
    """The smallest value with at least ``level`` % of the values at or below it."""
    rank = max(1, math.ceil(level / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _check(history: Sequence[int], trials: int, levels: Sequence[int]) -> None:
    """Reject negative throughput, fewer than one trial, or levels outside 1..99."""
    if any(count < 0 for count in history):
        raise ValueError("daily throughput cannot be negative")
    if trials < 1:
        raise ValueError(f"trials must be at least 1, not {trials}")
    if any(not 0 < level < 100 for level in levels):
        raise ValueError(f"percentile levels must be between 1 and 99, not {list(levels)}")


def _assumptions(history: Sequence[int], trials: int, question: str) -> Assumptions:
    """Summarise the history a forecast is based on, with a sentence for the player."""
    window = len(history)
    items = sum(history)
    mean = items / window if window else 0.0
    zero_fraction = sum(1 for count in history if count == 0) / window if window else 0.0
    if window == 0:
        text = f"No throughput history yet, so {question} cannot be forecast."
    elif items == 0:
        text = f"Nothing was finished in the last {window} days, so {question} cannot be forecast."
    else:
        text = (
            f"Based on {items} items finished in the last {window} days "
            f"({mean:.2f} a day, {zero_fraction:.0%} of days with none), "
            f"resampled in {trials} trials."
        )
    return Assumptions(window, items, mean, zero_fraction, trials, text)


def when_done(
    daily_throughput: Sequence[int],
    remaining_items: int,
    rng: random.Random,
    trials: int = DEFAULT_TRIALS,
    start_day: float = 0,
    levels: Sequence[int] = PERCENTILES,
) -> Forecast:
    """Forecast the day by which ``remaining_items`` items will be done.

    Each trial draws days from ``daily_throughput`` with replacement until the
    drawn throughput adds up to ``remaining_items``; the trial's outcome is
    ``start_day`` plus the number of days drawn.  ``percentiles[85]`` is the day
    by which 85 % of trials had finished.  Nothing remaining: every percentile
    is ``start_day``.  No history or no finished item in it: every percentile
    is ``math.inf`` (and the ``rng`` is not used).
    """
    _check(daily_throughput, trials, levels)
    history = list(daily_throughput)
    assumptions = _assumptions(history, trials, f"the day {remaining_items} items are done")
    if remaining_items <= 0:
        finished = replace(assumptions, trials=0, text="Nothing remains to be done.")
        start = float(start_day)
        return Forecast("when", remaining_items, dict.fromkeys(levels, start), 0, finished)
    if sum(history) == 0:
        never = replace(assumptions, trials=0)
        return Forecast("when", remaining_items, dict.fromkeys(levels, math.inf), 0, never)
    size = len(history)
    draw = rng.random
    outcomes: list[float] = []
    for _ in range(trials):
        done = 0
        days = 0
        while done < remaining_items and days < MAX_DAYS_PER_TRIAL:
            done += history[int(draw() * size)]
            days += 1
        outcomes.append(start_day + days if done >= remaining_items else math.inf)
    outcomes.sort()
    percentiles = {level: float(_nearest_rank(outcomes, level)) for level in levels}
    return Forecast("when", remaining_items, percentiles, trials, assumptions)


def how_many(
    daily_throughput: Sequence[int],
    days: int,
    rng: random.Random,
    trials: int = DEFAULT_TRIALS,
    levels: Sequence[int] = PERCENTILES,
) -> Forecast:
    """Forecast how many items will be done in the next ``days`` days.

    Each trial draws ``days`` days from ``daily_throughput`` with replacement
    and adds up their throughput.  ``percentiles[85]`` is the count that 85 % of
    trials reached or exceeded (the lower tail: more confidence, fewer items).
    No history, no finished item in it, or ``days`` <= 0: every percentile is 0
    (and the ``rng`` is not used).
    """
    _check(daily_throughput, trials, levels)
    history = list(daily_throughput)
    assumptions = _assumptions(history, trials, f"how many items are done in {days} days")
    if days <= 0:
        nothing = replace(assumptions, trials=0, text="No days ahead, so no items.")
        return Forecast("how_many", days, dict.fromkeys(levels, 0.0), 0, nothing)
    if sum(history) == 0:
        idle = replace(assumptions, trials=0)
        return Forecast("how_many", days, dict.fromkeys(levels, 0.0), 0, idle)
    size = len(history)
    draw = rng.random
    outcomes = sorted(sum(history[int(draw() * size)] for _ in range(days)) for _ in range(trials))
    # The count reached in at least `level` % of trials: the (100 - level) % lower tail.
    percentiles = {
        level: float(outcomes[len(outcomes) - max(1, math.ceil(level / 100 * len(outcomes)))])
        for level in levels
    }
    return Forecast("how_many", days, percentiles, trials, assumptions)
