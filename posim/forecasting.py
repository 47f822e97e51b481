"""Forecasts from a team's history: ``posim forecast`` and the Python API (DESIGN section 9).

The Monte Carlo itself is the engine's (:mod:`posim.engine.forecast`, the
same code honest reporting uses); this module turns a :class:`~posim.history.History`
into daily throughput and the trials' day numbers back into dates.

* **Window.** The last ``history_days`` days ending at the last done date
  (default: from the first to the last done date).  Daily throughput is
  counted for every day of the window, days without a done item counting 0.
  With ``working_days`` the window, the days and the forecast count
  Monday–Friday only, and an item done on a Saturday or Sunday counts on the
  following Monday.
* **Trials.** ``trials`` trials (default 10,000), seeded: same input and seed,
  same output.  "When" and "how many" draw from streams of their own derived
  from the seed, so asking one does not change the other.
* **Day 1** is the day (or weekday) after ``start`` (default: the last date of
  the history).

A history with no done item, or a window of one day, cannot be forecast
(:class:`ForecastError`).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posim.engine import forecast as fc
from posim.engine.randomness import derive_seed
from posim.history import (
    History,
    add_days,
    days_between,
    from_working_index,
    read_history,
    to_working_day,
    working_index,
)

DEFAULT_TRIALS = 10_000
"""Trials of ``posim forecast`` unless asked otherwise."""

LEVELS = fc.PERCENTILES
"""The confidence levels reported (50, 70, 85, 95)."""


MAX_SPAN_DAYS = 36_500
"""Largest ``--history`` and ``--days`` (100 years): beyond, a date leaves the calendar."""


class ForecastError(ValueError):
    """A history or a question that cannot be forecast (one line)."""


@dataclass(frozen=True, slots=True)
class Window:
    """The days of history a forecast samples from."""

    first: dt.date
    """First day of the window."""
    last: dt.date
    """Last day of the window (the last done date)."""
    working_days: bool
    """Whether only Monday–Friday count."""
    daily: tuple[int, ...]
    """Items done on each day of the window, oldest first."""

    @property
    def days(self) -> int:
        """Days in the window."""
        return len(self.daily)

    @property
    def items(self) -> int:
        """Items done in the window."""
        return sum(self.daily)

    @property
    def zero_days(self) -> int:
        """Days of the window without a done item."""
        return sum(1 for count in self.daily if count == 0)

    def to_json(self) -> dict[str, Any]:
        """The ``history`` object of the ``--json`` document."""
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "days": self.days,
            "items": self.items,
            "working_days": self.working_days,
        }

    def describe(self) -> str:
        """The assumptions in words."""
        unit = "working days (Monday to Friday)" if self.working_days else "calendar days"
        mean = self.items / self.days
        text = (
            f"Throughput sampled from {self.days} {unit}, {self.first} to {self.last}: "
            f"{self.items} item{'s' * (self.items != 1)} done, {mean:.2f} a day, "
            f"{self.zero_days} day{'s' * (self.zero_days != 1)} "
            f"({self.zero_days / self.days:.0%}) with none. Each trial draws days from this "
            "window at random, with replacement: it assumes the next weeks look like these "
            "(same team, same kind of work, same way of working)."
        )
        if self.working_days:
            text += " Items done on a weekend count on the following Monday."
        return text


def throughput_window(
    history: History, history_days: int | None = None, working_days: bool = False
) -> Window:
    """The window of daily throughput a forecast samples from (module docstring).

    Raises:
        ForecastError: no item done, a window of one day, or ``history_days`` < 2.
    """
    done = history.done_dates()
    if not done:
        raise ForecastError(
            f"{history.source}: no item has a done date, so nothing can be forecast"
        )
    if working_days:
        done = sorted(to_working_day(date) for date in done)
    last = done[-1]
    if history_days is not None:
        if history_days < 2:
            raise ForecastError(f"--history must be at least 2 days, got {history_days}")
        first = add_days(last, -(history_days - 1), working_days)
    else:
        first = done[0]
    length = days_between(first, last, working_days) + 1
    if length < 2:
        raise ForecastError(
            f"{history.source}: every item was done on {last}: a window of one day says "
            "nothing about how throughput varies; forecast from a longer history"
        )
    daily = [0] * length
    for date in done:
        if date >= first:
            daily[days_between(first, date, working_days)] += 1
    return Window(first, last, working_days, tuple(daily))


def _start_index(start: dt.date, working_days: bool) -> int:
    """The day number of ``start`` (a weekend ``start`` counts as the Friday before)."""
    if not working_days:
        return start.toordinal()
    return working_index(start) - (1 if start.weekday() >= 5 else 0)


def _date_of(start: dt.date, days: int, working_days: bool) -> dt.date:
    """Day number ``days`` counted from ``start`` (day 1 is the next day or weekday)."""
    if not working_days:
        return start + dt.timedelta(days=days)
    return from_working_index(_start_index(start, True) + days)


def _days_until(start: dt.date, date: dt.date, working_days: bool) -> int:
    """How many days (or weekdays) after ``start`` up to and including ``date``."""
    if not working_days:
        return (date - start).days
    end = working_index(date) - (1 if date.weekday() >= 5 else 0)
    return end - _start_index(start, True)


def _rng(seed: int, question: str) -> random.Random:
    """The stream of one question, derived from the seed."""
    return random.Random(derive_seed(seed, "forecast", question))


@dataclass(frozen=True, slots=True)
class WhenForecast:
    """When ``items`` items will be done (``posim.forecast_when``)."""

    items: int
    """Items to finish."""
    start: dt.date
    """Day 1 of the forecast."""
    days: dict[int, float]
    """Level -> days needed (``math.inf``: not within the engine's cap of 5,000 days)."""
    dates: dict[int, dt.date | None]
    """Level -> date (``None`` when ``days`` is infinite)."""
    by: dt.date | None
    """The date asked about with ``--by``."""
    chance: float | None
    """Share of trials done by ``by``."""
    window: Window
    """The history sampled."""
    trials: int
    """Trials run."""
    seed: int
    """The seed."""
    outcomes: tuple[float, ...]
    """Every trial's days needed, sorted."""

    def to_json(self) -> dict[str, Any]:
        """The ``when`` object of the ``--json`` document."""
        out: dict[str, Any] = {
            "items": self.items,
            "start": self.start.isoformat(),
            "percentiles": {
                str(level): {
                    "days": None if math.isinf(days) else int(days),
                    "date": None if date is None else date.isoformat(),
                }
                for level, days in self.days.items()
                for date in [self.dates[level]]
            },
        }
        if self.by is not None:
            out["by"] = {"date": self.by.isoformat(), "chance": self.chance}
        return out


@dataclass(frozen=True, slots=True)
class HowManyForecast:
    """How many items will be done in ``days`` days (``posim.forecast_how_many``)."""

    days: int
    """Days ahead."""
    until: dt.date
    """The last of those days."""
    items: dict[int, int]
    """Level -> items done in at least that share of trials."""
    window: Window
    """The history sampled."""
    trials: int
    """Trials run."""
    seed: int
    """The seed."""
    outcomes: tuple[float, ...]
    """Every trial's item count, sorted."""

    def to_json(self) -> dict[str, Any]:
        """The ``how_many`` object of the ``--json`` document."""
        return {
            "days": self.days,
            "until": self.until.isoformat(),
            "percentiles": {str(level): count for level, count in self.items.items()},
        }


def _history(history: History | str | Path) -> History:
    """A history, read from a path when given one."""
    return history if isinstance(history, History) else read_history(history)


def _check_trials(trials: int) -> None:
    if not 1 <= trials <= 1_000_000:
        raise ForecastError(f"--trials must be between 1 and 1,000,000, got {trials}")


def forecast_when(
    history: History | str | Path,
    items: int,
    *,
    by: dt.date | None = None,
    history_days: int | None = None,
    start: dt.date | None = None,
    working_days: bool = False,
    trials: int = DEFAULT_TRIALS,
    seed: int = 1,
) -> WhenForecast:
    """When will ``items`` items be done?  Percentiles 50/70/85/95 as days and dates.

    Percentile ``p`` is ``min{d : #{i : T_i <= d} >= ceil(p n)}`` over the
    ``n`` trials' days needed ``T_i``; ``by`` adds the share of trials done by
    that date.

    Raises:
        ForecastError: a history that cannot be forecast, ``items`` < 1, or a
            ``by`` date not after ``start``.
    """
    loaded = _history(history)
    if items < 1:
        raise ForecastError(f"--when must be at least 1 item, got {items}")
    _check_trials(trials)
    window = throughput_window(loaded, history_days, working_days)
    begin = window.last if start is None else start
    result = fc.when_done(
        window.daily, items, _rng(seed, "when"), trials=trials, levels=LEVELS, keep_outcomes=True
    )
    days = {level: result.percentiles[level] for level in LEVELS}
    dates = {
        level: None if math.isinf(d) else _date_of(begin, int(d), working_days)
        for level, d in days.items()
    }
    chance = None
    if by is not None:
        limit = _days_until(begin, by, working_days)
        if limit < 1:
            raise ForecastError(f"--by {by} must be after the forecast's start, {begin}")
        chance = sum(1 for t in result.outcomes if t <= limit) / trials
    return WhenForecast(
        items,
        _date_of(begin, 1, working_days),
        days,
        dates,
        by,
        chance,
        window,
        trials,
        seed,
        result.outcomes,
    )


def forecast_how_many(
    history: History | str | Path,
    days: int | None = None,
    *,
    until: dt.date | None = None,
    history_days: int | None = None,
    start: dt.date | None = None,
    working_days: bool = False,
    trials: int = DEFAULT_TRIALS,
    seed: int = 1,
) -> HowManyForecast:
    """How many items will be done in ``days`` days (or up to ``until``)?

    Percentile ``p`` is ``max{c : #{i : X_i >= c} >= ceil(p n)}`` over the
    trials' item counts ``X_i``: the higher the confidence, the fewer items.

    Raises:
        ForecastError: a history that cannot be forecast, neither or both of
            ``days`` and ``until``, or fewer than one day ahead.
    """
    loaded = _history(history)
    if (days is None) == (until is None):
        raise ForecastError("give either --days or --until (one of them)")
    _check_trials(trials)
    window = throughput_window(loaded, history_days, working_days)
    begin = window.last if start is None else start
    ahead = _days_until(begin, until, working_days) if until is not None else days
    assert ahead is not None
    if ahead < 1:
        what = f"--until {until}" if until is not None else f"--days {days}"
        raise ForecastError(f"{what}: at least one day must lie ahead of {begin}")
    result = fc.how_many(
        window.daily,
        ahead,
        _rng(seed, "how_many"),
        trials=trials,
        levels=LEVELS,
        keep_outcomes=True,
    )
    counts = {level: int(result.percentiles[level]) for level in LEVELS}
    return HowManyForecast(
        ahead,
        _date_of(begin, ahead, working_days),
        counts,
        window,
        trials,
        seed,
        result.outcomes,
    )


@dataclass(frozen=True, slots=True)
class Report:
    """Everything ``posim forecast`` shows: the history and the questions asked."""

    source: str
    """The file, as given."""
    window: Window
    """The history sampled."""
    when: WhenForecast | None
    """With ``--when``."""
    how_many: HowManyForecast | None
    """With ``--days`` or ``--until``."""
    trials: int
    """Trials per question."""
    seed: int
    """The seed."""
    notes: tuple[str, ...]
    """Assumptions made reading the file."""

    def to_json(self, version: str) -> dict[str, Any]:
        """The ``posim forecast --json`` document (DESIGN section 9)."""
        out: dict[str, Any] = {
            "posim": version,
            "source": Path(self.source).name,
            "history": self.window.to_json(),
        }
        if self.when is not None:
            out["when"] = self.when.to_json()
        if self.how_many is not None:
            out["how_many"] = self.how_many.to_json()
        out["trials"] = self.trials
        out["seed"] = self.seed
        return out


def forecast(
    history: History,
    *,
    when: int | None = None,
    by: dt.date | None = None,
    days: int | None = None,
    until: dt.date | None = None,
    history_days: int | None = None,
    start: dt.date | None = None,
    working_days: bool = False,
    trials: int = DEFAULT_TRIALS,
    seed: int = 1,
) -> Report:
    """Both questions of ``posim forecast`` at once (either may be left out).

    Raises:
        ForecastError: as :func:`forecast_when` and :func:`forecast_how_many`,
            or ``by`` without ``when``, or ``days`` with ``until``.
    """
    if by is not None and when is None:
        raise ForecastError("--by needs --when N")
    if days is not None and until is not None:
        raise ForecastError("give --days or --until, not both")
    common: dict[str, Any] = {
        "history_days": history_days,
        "start": start,
        "working_days": working_days,
        "trials": trials,
        "seed": seed,
    }
    for option, value in (("--history", history_days), ("--days", days)):
        if value is not None and value > MAX_SPAN_DAYS:
            raise ForecastError(f"{option} must be at most {MAX_SPAN_DAYS:,} days, got {value:,}")
    try:
        window = throughput_window(history, history_days, working_days)
        when_result = None if when is None else forecast_when(history, when, by=by, **common)
        how_result = None
        if days is not None or until is not None:
            how_result = forecast_how_many(history, days, until=until, **common)
    except (OverflowError, ValueError) as error:
        if isinstance(error, ForecastError):
            raise
        # Date arithmetic past year 9999 (or before year 1): --from, --by or --until.
        raise ForecastError(
            "the forecast's dates would leave the calendar (years 1 to 9999): "
            "pick --from, --by or --until well inside it"
        ) from None
    return Report(history.source, window, when_result, how_result, trials, seed, history.notes)


def format_report(report: Report) -> str:
    """The plain-text table ``posim forecast`` prints, with the assumptions in words."""
    lines = [f"Forecast from {report.source}", "", report.window.describe()]
    lines.extend(report.notes)
    unit = "working days" if report.window.working_days else "days"
    if report.when is not None:
        when = report.when
        lines += [
            "",
            f"When will {when.items} items be done?  (day 1 = {when.start})",
            f"  {'confidence':<12}{unit:>14}  date",
        ]
        for level, days in when.days.items():
            date = when.dates[level]
            shown = "never (more than 5,000 days)" if date is None else date.isoformat()
            count = "-" if math.isinf(days) else f"{int(days)}"
            lines.append(f"  {f'{level} %':<12}{count:>14}  {shown}")
        if when.by is not None and when.chance is not None:
            lines.append(f"  Chance of {when.items} items done by {when.by}: {when.chance:.0%}")
    if report.how_many is not None:
        how = report.how_many
        lines += [
            "",
            f"How many items in the next {how.days} {unit} (up to {how.until})?",
            f"  {'confidence':<12}{'items':>14}",
        ]
        for level, items in how.items.items():
            lines.append(f"  {f'{level} %':<12}{items:>14}")
    if report.when is None and report.how_many is None:
        lines += ["", "Ask a question: --when N (and --by DATE), --days D or --until DATE."]
    lines += [
        "",
        f"{report.trials:,} trials, seed {report.seed}. Percentile p: the day by which p % of "
        "trials finished; the count p % of trials reached or exceeded.",
    ]
    return "\n".join(lines)


def write_charts(report: Report, history: History, folder: Path) -> list[Path]:
    """The charts of ``--out``: throughput run chart, histograms, cycle-time scatter."""
    from posim import forecast_plots as charts

    written = [charts.throughput_run_chart(report.window, folder / "throughput.svg")]
    if report.when is not None:
        written.append(charts.when_histogram(report.when, folder / "when.svg"))
    if report.how_many is not None:
        written.append(charts.how_many_histogram(report.how_many, folder / "how_many.svg"))
    if history.layout == "stages":
        written.append(charts.cycle_time_scatter(history, folder / "cycle_time.svg"))
    return written
