"""Monte Carlo forecasts from observed daily throughput, ActionableAgile style.

Two questions, both answered by resampling the team's own recent history of
items finished per day (no estimates involved):

* :func:`when_done` — "when will these N items be done?"  Trial ``i`` draws days
  at random (with replacement) from the history and adds up their throughput
  until N items are done; the number of days drawn, ``T_i``, added to
  ``start_day``, is that trial's finishing day.  Percentile ``p`` is
  ``min{d : #{i : T_i <= d} >= ceil(p n)}``: the day by which 85 % of trials
  had finished is a promise kept 85 % of the time.
* :func:`how_many` — "how many items in the next D days?"  Trial ``i`` draws
  ``D`` days and adds up their throughput, ``X_i``.  Percentile ``p`` is
  ``max{c : #{i : X_i >= c} >= ceil(p n)}``: the count that 85 % of trials
  *reached or exceeded* (the lower tail), so higher confidence means fewer
  items, as in ActionableAgile.

These are the semantics of DESIGN section 9; ``posim forecast`` and the honest
reporting policy both use this module.

**How the trials are drawn.**  Drawing days one by one costs items x trials at
every forecast, and a growing backlog made that quadratic in the horizon.  So
the trials are drawn from the *distribution* of their outcome instead, which
is computed from the distribution of sums of daily throughput: with ``S_d`` the
throughput of ``d`` days drawn with replacement, ``P(T <= d) = P(S_d >= N)``.
Each trial is one uniform number ``u`` from the caller's random stream, turned
into ``T = min{d : P(T <= d) > u}`` (inverse-CDF sampling): every trial has
exactly the distribution the day-by-day resampling gives it, and the
percentiles keep their meaning as order statistics of ``n`` trials.

* Up to :data:`EXACT_MAX_ITEMS` items, ``P(S_d < N)`` is computed exactly, by
  convolving the daily distribution truncated below ``N`` (powers of two by
  squaring, then binary search on ``d``): a few dozen convolutions of at most
  :data:`EXACT_MAX_ITEMS` numbers.
* Past it, ``S_d`` is approximated by its Edgeworth expansion (the normal
  distribution corrected for skewness and kurtosis, at the lattice midpoint):
  a handful of closed-form evaluations, the same cost for 200 items or 20,000.
  ``tests/engine/test_forecast.py`` bounds its error against the exact
  computation: within one day at every percentile on zero-heavy, lumpy and
  steady histories.

"How many" is exact at any size (the distribution of ``S_D`` by FFT).  The
random stream is used only for the ``n`` uniform numbers, so a forecast's
randomness stays on its own stream (common random numbers still pair
strategies).

The history comes from :func:`throughput_history`: whole days only, the last
``window`` complete days before now.  The :class:`Assumptions` returned with
every :class:`Forecast` say which window and how many items were used, and a
sentence says so for the player.

With no history, or a history in which nothing was ever finished, nothing can
be forecast: :func:`when_done` returns ``math.inf`` for every percentile and
:func:`how_many` returns 0; the assumption sentence says why.  A trial that
would need more than :data:`MAX_DAYS_PER_TRIAL` days counts as never finishing
(``math.inf``), so a forecast is always finite work.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

PERCENTILES: Final[tuple[int, ...]] = (50, 70, 85, 95)
"""The confidence levels every forecast reports."""

DEFAULT_TRIALS: Final = 1000
"""Trials per forecast unless the caller asks otherwise."""

MAX_DAYS_PER_TRIAL: Final = 5000
"""A "when" trial that would need more than this many days counts as never finishing."""

EXACT_MAX_ITEMS: Final = 60
"""Up to this many items, "when" is computed exactly; past it, by the Edgeworth expansion."""

WALK_BUDGET: Final = 1200
"""Most multiply-adds the plain-Python day-by-day walk may take (past it, numpy's doubling)."""

ForecastKind = Literal["when", "how_many"]
"""``when``: percentiles are day numbers; ``how_many``: item counts."""

_STANDARD_NORMAL: Final = NormalDist()

_TWO_TO_MINUS_53: Final = 1.0 / 9007199254740992.0


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
    outcomes: tuple[float, ...] = ()
    """Every trial's outcome, sorted (day or item count), when asked for with
    ``keep_outcomes=True``; empty otherwise."""

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


def rank(level: int, trials: int) -> int:
    """``ceil(level / 100 * trials)``, at least 1, in exact integer arithmetic."""
    return max(1, -(-level * trials // 100))


def _check(history: Sequence[int], trials: int, levels: Sequence[int]) -> None:
    """Reject negative throughput, fewer than one trial, or levels outside 1..99."""
    if history and _has_negative(history):
        raise ValueError("daily throughput cannot be negative")
    if trials < 1:
        raise ValueError(f"trials must be at least 1, not {trials}")
    if levels is not PERCENTILES and any(not 0 < level < 100 for level in levels):
        raise ValueError(f"percentile levels must be between 1 and 99, not {list(levels)}")


def _has_negative(history: Sequence[int]) -> bool:
    """Whether a daily count is below 0 (a history of bytes, 0..255, has none:
    ``bytes()`` checks in C what ``min()`` compares one Python int at a time)."""
    try:
        bytes(history)
    except (ValueError, TypeError):
        return min(history) < 0
    return False


def _assumptions(history: Sequence[int], trials: int, question: str) -> Assumptions:
    """Summarise the history a forecast is based on, with a sentence for the player."""
    window = len(history)
    items = sum(history)
    mean = items / window if window else 0.0
    zero_fraction = list(history).count(0) / window if window else 0.0
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


@dataclass(frozen=True, slots=True)
class DailyThroughput:
    """The distribution of one day's throughput drawn from a history, and its moments."""

    probabilities: tuple[float, ...]
    """``probabilities[k]``: the share of the history's days that finished ``k`` items."""
    mean: float
    """Mean items per day."""
    sd: float
    """Standard deviation of items per day."""
    skewness: float
    """Skewness of items per day (0 when ``sd`` is 0)."""
    excess_kurtosis: float
    """Excess kurtosis of items per day (0 when ``sd`` is 0)."""
    offset: int
    """The smallest daily count in the history."""
    span: int
    """The lattice step of the counts: gcd of (count - offset); 0 when every day is alike."""

    @classmethod
    def of(cls, history: Sequence[int], *, moments: bool = True) -> DailyThroughput:
        """The distribution of a non-empty history of daily counts.

        Without ``moments``, ``sd``, ``skewness`` and ``excess_kurtosis`` are NaN
        (only the Edgeworth expansion reads them: a review of a few items needs
        the probabilities alone).
        """
        days = len(history)
        tallies = _tallies(history)
        probabilities = tuple([tally / days for tally in tallies])
        mean = sum(history) / days  # an exact integer sum, whatever the order
        offset = 0
        while not tallies[offset]:
            offset += 1
        span = math.gcd(*[k - offset for k in range(offset + 1, len(tallies)) if tallies[k]])
        if span == 0:
            return cls(probabilities, mean, 0.0, 0.0, 0.0, offset, 0)
        if not moments:
            return cls(probabilities, mean, math.nan, math.nan, math.nan, offset, span)
        squares = cubes = fourths = 0.0
        for k in dict.fromkeys(history):  # in the order first seen (a Counter's order)
            c = tallies[k]
            deviation = k - mean
            squares += deviation**2 * c
            cubes += deviation**3 * c
            fourths += deviation**4 * c
        variance = squares / days
        sd = math.sqrt(variance)
        if sd <= 1e-12:
            return cls(probabilities, mean, 0.0, 0.0, 0.0, offset, 0)
        skewness = cubes / days / sd**3
        excess = fourths / days / variance**2 - 3.0
        return cls(probabilities, mean, sd, skewness, excess, offset, span)


def _tallies(history: Sequence[int]) -> list[int]:
    """``tallies[k]``: how many days of a non-empty, non-negative ``history`` finished
    ``k`` items, for ``k`` up to the largest.

    A review's history is a few dozen days of a few items each: as bytes, each
    tally is one C-level count (``bytes.count``), not one Python step per day.
    A count past 255 is tallied day by day.
    """
    try:
        count = bytes(history).count
    except ValueError:  # a day of more than 255 items
        tallies = [0] * (max(history) + 1)
        for items in history:
            tallies[items] += 1
        return tallies
    tallies = []
    days = len(history)
    while days:
        tally = count(len(tallies))
        tallies.append(tally)
        days -= tally
    return tallies


# --- "when": the distribution of T ----------------------------------------------------------


def _exact_when_days(daily: DailyThroughput, items: int, targets: Sequence[float]) -> list[float]:
    """``min{d : P(S_d < items) < 1 - u}`` for each sorted ``u`` in ``targets``, exactly.

    ``q_d`` is the distribution of ``S_d`` truncated below ``items`` (the mass at
    ``items`` or more is "done" and can never come back, throughput being
    non-negative), so ``q_(a+b) = (q_a * q_b)[:items]``.  Powers of two by
    squaring, then a binary search on ``d`` per target (or, for many targets,
    one search and then a day-by-day walk).
    """
    import numpy as np

    base: FloatArray = np.zeros(items)
    head = daily.probabilities[:items]
    base[: len(head)] = head
    powers = [base]
    hardest = 1.0 - targets[-1]
    while float(powers[-1].sum()) >= hardest and (1 << (len(powers) - 1)) < MAX_DAYS_PER_TRIAL:
        powers.append(np.convolve(powers[-1], powers[-1])[:items])

    def search(u: float) -> tuple[int, FloatArray | None]:
        """The largest ``d`` with ``P(S_d < items) >= 1 - u``, and ``q_d`` (None: d = 0)."""
        threshold = 1.0 - u
        acc: FloatArray | None = None
        days = 0
        for power in range(len(powers) - 1, -1, -1):
            candidate = powers[power] if acc is None else np.convolve(acc, powers[power])[:items]
            if float(candidate.sum()) >= threshold:
                acc = candidate
                days += 1 << power
        return days, acc

    def day(value: int) -> float:
        return float(value) if value <= MAX_DAYS_PER_TRIAL else math.inf

    if len(targets) <= 16:
        return [day(search(u)[0] + 1) for u in targets]
    # Many targets: one search for the smallest, then walk day by day.
    days, acc = search(targets[0])
    remaining: list[float] = []  # remaining[k]: P(S_(first + k) < items)
    first = days + 1
    current = acc
    hardest = 1.0 - targets[-1]
    while first + len(remaining) <= MAX_DAYS_PER_TRIAL + 1:
        current = base if current is None else np.convolve(current, base)[:items]
        left = float(current.sum())
        remaining.append(-left)  # negated: ascending for bisect
        if left < hardest:
            break
    results = []
    for u in targets:
        index = bisect.bisect_right(remaining, -(1.0 - u))  # first k with left < 1 - u
        results.append(day(first + index) if index < len(remaining) else math.inf)
    return results


def _walked_when_days(
    daily: DailyThroughput, items: int, targets: Sequence[float]
) -> list[float] | None:
    """:func:`_exact_when_days` by a day-by-day walk in plain Python, or None if too long.

    A status review usually asks about a few items a few days ahead, where
    numpy's call overhead is most of the cost: walking ``q_1, q_2, ...`` with
    lists (``q_(d+1) = (q_d * q_1)[:items]``) until ``P(S_d < items)`` drops
    below every target's threshold costs a few microseconds.  Left to the
    doubling (None) when the walk would take more than :data:`WALK_BUDGET`
    multiply-adds.  The same numbers as the doubling up to rounding in the
    last bits (``tests/engine/test_forecast.py`` compares them).
    """
    head = daily.probabilities[:items]
    # (k, P(k), the positions of q it moves up by k), made once for the walk
    steps = [(k, p, range(items - k)) for k, p in enumerate(head) if p > 0.0]
    if not steps:  # every day finishes them all
        return [1.0] * len(targets)
    per_day = sum([items - k for k, _, _ in steps])
    longest = WALK_BUDGET // per_day
    # Most of the days the walk will need: the mean's days, with room for the tail.
    if longest < 1 or items / daily.mean * 1.5 + 3 > longest:
        return None
    hardest = 1.0 - targets[-1]
    q = list(head) + [0.0] * (items - len(head))  # q_1: one day's throughput, truncated
    left = sum(q)
    negated = [-left]  # -P(S_d < items) for d = 1, 2, ...: ascending, for bisect
    for _ in range(longest):
        if left < hardest:
            # T = 1 + #{d >= 1 : P(S_d < items) >= 1 - u}
            return [float(bisect.bisect_right(negated, -(1.0 - u)) + 1) for u in targets]
        new = [0.0] * items
        for k, p, positions in steps:
            for i in positions:
                new[i + k] += p * q[i]
        q = new
        left = sum(q)
        negated.append(-left)
    return None


def _edgeworth_cdf(x: float, skew: float, excess: float) -> float:
    """The two-term Edgeworth expansion of a standardised sum's CDF at ``x``.

    ``skew`` and ``excess`` are the sum's own skewness and excess kurtosis
    (the daily ones divided by ``sqrt(d)`` and ``d``).
    """
    x2 = x * x
    density = math.exp(-0.5 * x2) / math.sqrt(2 * math.pi)
    correction = (
        skew / 6 * (x2 - 1)
        + excess / 24 * x * (x2 - 3)
        + skew * skew / 72 * x * (x2 * x2 - 10 * x2 + 15)
    )
    value = 0.5 * (1 + math.erf(x / math.sqrt(2))) - density * correction
    return min(1.0, max(0.0, value))


def _approximate_when_days(
    daily: DailyThroughput, items: int, targets: Sequence[float]
) -> list[float]:
    """As :func:`_exact_when_days`, with ``P(S_d < items)`` from the Edgeworth expansion.

    ``S_d`` lives on the lattice ``d * offset + span * Z``; the expansion is
    evaluated half a step above the largest lattice point below ``items``
    (the continuity correction).
    """
    mean, sd, offset, span = daily.mean, daily.sd, daily.offset, daily.span
    skew, excess = daily.skewness, daily.excess_kurtosis

    def left(d: int) -> float:
        """Approximately ``P(S_d < items)``."""
        room = items - 1 - d * offset
        if room < 0:
            return 0.0
        top = d * offset + span * (room // span)
        x = (top + span / 2 - d * mean) / (sd * math.sqrt(d))
        return _edgeworth_cdf(x, skew / math.sqrt(d), excess / d)

    def guess(u: float) -> int:
        """The normal approximation's day for target ``u``."""
        z = _STANDARD_NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        root = (z * sd + math.sqrt(z * z * sd * sd + 4 * mean * (items - 0.5))) / (2 * mean)
        return max(1, math.ceil(root * root))

    results: list[float] = []
    previous = 1
    for u in targets:
        threshold = 1.0 - u
        d = max(previous, min(guess(u), MAX_DAYS_PER_TRIAL + 1))
        while d > previous and left(d - 1) < threshold:
            d -= 1
        while d <= MAX_DAYS_PER_TRIAL and left(d) >= threshold:
            d += 1
        previous = d
        results.append(float(d) if d <= MAX_DAYS_PER_TRIAL else math.inf)
    return results


def when_days(daily: DailyThroughput, items: int, targets: Sequence[float]) -> list[float]:
    """Trial outcomes ``T = min{d >= 1 : P(T <= d) > u}`` for sorted uniforms ``targets``.

    Exact up to :data:`EXACT_MAX_ITEMS` items, the Edgeworth expansion past it;
    a constant daily throughput is exact at any size.
    """
    if daily.span == 0:  # every day alike: no randomness at all
        if daily.offset == 0:
            return [math.inf] * len(targets)
        days = math.ceil(items / daily.offset)
        return [float(days) if days <= MAX_DAYS_PER_TRIAL else math.inf] * len(targets)
    if items <= EXACT_MAX_ITEMS:
        walked = _walked_when_days(daily, items, targets)
        return _exact_when_days(daily, items, targets) if walked is None else walked
    return _approximate_when_days(daily, items, targets)


def _uniforms(rng: random.Random, trials: int) -> list[float]:
    """``trials`` uniform numbers in [0, 1) from ``rng``, sorted.

    The numbers of ``trials`` calls of ``rng.random()``, drawn in bulk: CPython's
    ``random()`` makes each from two 32-bit outputs of the generator, ``a`` and
    ``b``, as ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``, and ``getrandbits(64 * n)``
    returns the same ``2 * n`` outputs, the first in the lowest bits.  So the
    numbers, their order and the generator's state afterwards are exactly those
    of the one-by-one draws (``tests/engine/test_forecast.py`` checks it), for
    half the time of drawing and sorting 200 of them in Python.
    """
    if type(rng) is not random.Random or trials < 16:  # a subclass may draw otherwise
        draw = rng.random
        return sorted([draw() for _ in range(trials)])
    keys = _numerators(rng, trials)
    keys.sort()
    numbers: list[float] = (keys * _TWO_TO_MINUS_53).tolist()  # exact: keys < 2**53
    return numbers


def _numerators(rng: random.Random, trials: int) -> npt.NDArray[np.integer[Any]]:
    """The 53-bit numerators of the next ``trials`` numbers of ``rng.random()``, in bulk
    (see :func:`_uniforms`)."""
    import numpy as np

    words_dtype, low_half, five, six_and_thirty_two, twenty_six = _bulk_constants()
    drawn = rng.getrandbits(64 * trials).to_bytes(8 * trials, "little")
    words = np.frombuffer(drawn, words_dtype)
    keys: npt.NDArray[np.integer[Any]] = ((words & low_half) >> five << twenty_six) | (
        words >> six_and_thirty_two
    )
    return keys


@functools.cache
def _bulk_constants() -> tuple[Any, ...]:
    """:func:`_numerators`' dtype and shifts as numpy's own, made once (a dtype
    parsed from its string, or Python ints converted, at every review cost
    more than the arithmetic on its 200 numbers)."""
    import numpy as np

    return np.dtype("<u8"), np.uint64(0xFFFFFFFF), np.uint64(5), np.uint64(38), np.uint64(26)


def _uniforms_at(rng: random.Random, trials: int, indices: Sequence[int]) -> list[float]:
    """``_uniforms(rng, trials)[i]`` for each of the sorted ``indices``: the same
    numbers drawn, only those order statistics picked out (no full sort)."""
    if type(rng) is not random.Random or trials < 16:
        uniforms = _uniforms(rng, trials)
        return [uniforms[i] for i in indices]
    keys = _numerators(rng, trials)
    keys.partition(indices)
    return [int(keys[i]) * _TWO_TO_MINUS_53 for i in indices]


def when_done_at(
    daily_throughput: Sequence[int],
    remaining_items: int,
    rng: random.Random,
    level: int,
    trials: int = DEFAULT_TRIALS,
    start_day: float = 0,
    levels: Sequence[int] = PERCENTILES,
) -> float | None:
    """``when_done(...).percentiles[level]`` alone (None: no finished item in the history).

    The same day, from the same numbers of ``rng``, without the rest of the
    forecast: a strategy's honest report needs only its one percentile, and
    a review costs about half.  ``levels`` are those ``when_done`` would be
    asked for (past :data:`EXACT_MAX_ITEMS` the Edgeworth search finds them in
    turn, each from the last, so they are all computed there).
    """
    if level not in levels:
        raise ValueError(f"level {level} is not one of {list(levels)}")
    history = list(daily_throughput)
    _check(history, trials, levels)
    if not any(history):  # no finished item (the counts are not negative)
        return None
    if remaining_items <= 0:
        return float(start_day)
    daily = DailyThroughput.of(history, moments=remaining_items > EXACT_MAX_ITEMS)
    index = rank(level, trials) - 1
    if remaining_items > EXACT_MAX_ITEMS and daily.span != 0:
        indices = sorted({rank(other, trials) - 1 for other in levels})
    else:
        indices = [index]
    days = when_days(daily, remaining_items, _uniforms_at(rng, trials, indices))
    return start_day + days[indices.index(index)]


def _order_statistics(
    uniforms: list[float],
    levels: Sequence[int],
    invert: Callable[[Sequence[float]], list[float]],
    keep_outcomes: bool,
    lower_tail: bool,
) -> tuple[dict[int, float], tuple[float, ...]]:
    """Percentiles (and every outcome if asked) from sorted uniforms and an inverse CDF."""
    trials = len(uniforms)
    if lower_tail:  # how many: the (n - ceil(p n) + 1)-th smallest outcome
        indices = {level: trials - rank(level, trials) for level in levels}
    else:  # when: the ceil(p n)-th smallest outcome
        indices = {level: rank(level, trials) - 1 for level in levels}
    if keep_outcomes:
        outcomes = invert(uniforms)
        return {level: outcomes[i] for level, i in indices.items()}, tuple(outcomes)
    wanted = sorted(set(indices.values()))
    values = dict(zip(wanted, invert([uniforms[i] for i in wanted]), strict=True))
    return {level: values[i] for level, i in indices.items()}, ()


def when_done(
    daily_throughput: Sequence[int],
    remaining_items: int,
    rng: random.Random,
    trials: int = DEFAULT_TRIALS,
    start_day: float = 0,
    levels: Sequence[int] = PERCENTILES,
    *,
    keep_outcomes: bool = False,
) -> Forecast:
    """Forecast the day by which ``remaining_items`` items will be done.

    Trial ``i`` finishes on ``start_day + T_i``, ``T_i`` being the days drawn
    from ``daily_throughput`` (with replacement) until they add up to
    ``remaining_items`` (module docstring: how the trials are drawn).
    ``percentiles[85]`` is the day by which 85 % of trials had finished.
    Nothing remaining: every percentile is ``start_day``.  No history or no
    finished item in it: every percentile is ``math.inf`` (and the ``rng`` is
    not used).  ``keep_outcomes`` keeps every trial's day in ``outcomes``.
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
    daily = DailyThroughput.of(history)
    uniforms = _uniforms(rng, trials)

    def invert(targets: Sequence[float]) -> list[float]:
        return [start_day + days for days in when_days(daily, remaining_items, targets)]

    percentiles, outcomes = _order_statistics(uniforms, levels, invert, keep_outcomes, False)
    return Forecast("when", remaining_items, percentiles, trials, assumptions, outcomes)


def sum_distribution(daily: DailyThroughput, days: int) -> list[float]:
    """``P(S_days = k)`` for ``k = 0 ..``: the throughput of ``days`` days drawn with replacement.

    Exact up to floating point: the ``days``-th power of the daily distribution's
    transform (FFT), negative round-off clipped.
    """
    import numpy as np

    top = (len(daily.probabilities) - 1) * days
    size = 1 << max(1, (top + 1).bit_length())
    transform = np.fft.rfft(np.asarray(daily.probabilities, dtype=float), size)
    masses = np.fft.irfft(transform**days, size)[: top + 1]
    masses = np.clip(masses, 0.0, None)
    masses /= masses.sum()
    return [float(m) for m in masses]


def how_many(
    daily_throughput: Sequence[int],
    days: int,
    rng: random.Random,
    trials: int = DEFAULT_TRIALS,
    levels: Sequence[int] = PERCENTILES,
    *,
    keep_outcomes: bool = False,
) -> Forecast:
    """Forecast how many items will be done in the next ``days`` days.

    Trial ``i`` draws ``days`` days from ``daily_throughput`` with replacement
    and adds up their throughput (drawn from the exact distribution of that
    sum).  ``percentiles[85]`` is the count that 85 % of trials reached or
    exceeded (the lower tail: more confidence, fewer items).  No history, no
    finished item in it, or ``days`` <= 0: every percentile is 0 (and the
    ``rng`` is not used).  ``keep_outcomes`` keeps every trial's count.
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
    masses = sum_distribution(DailyThroughput.of(history), days)
    cumulative: list[float] = []
    total = 0.0
    for mass in masses:
        total += mass
        cumulative.append(total)

    def invert(targets: Sequence[float]) -> list[float]:
        """``X = min{c : P(X <= c) > u}``."""
        last = len(cumulative) - 1
        return [float(min(last, bisect.bisect_right(cumulative, u))) for u in targets]

    uniforms = _uniforms(rng, trials)
    percentiles, outcomes = _order_statistics(uniforms, levels, invert, keep_outcomes, True)
    return Forecast("how_many", days, percentiles, trials, assumptions, outcomes)
