"""Charts of ``posim forecast --out`` (matplotlib, byte-stable SVG, as :mod:`posim.plots`).

* ``throughput.svg``: items done per day over the window (a run chart), with
  the mean;
* ``when.svg``: the trials' days needed for ``--when N``, as a histogram with
  the 50/70/85/95th percentile lines (the percentiles reported);
* ``how_many.svg``: the trials' item counts for ``--days``/``--until``, same;
* ``cycle_time.svg``: done date against cycle time (stage-dates files only).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from posim.plots import _figure, _headroom
from posim.plots import cycle_time_scatter as _items_scatter

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from posim.forecasting import HowManyForecast, WhenForecast, Window
    from posim.history import History

_LEVEL_COLOURS = {50: "tab:green", 70: "tab:olive", 85: "tab:orange", 95: "tab:red"}


def throughput_run_chart(window: Window, path: str | os.PathLike[str]) -> Path:
    """Items done per day of the window, with the mean as a dashed line."""
    with _figure(path, 9.0, 4.0) as figure:
        axes = figure.add_subplot(1, 1, 1)
        days = list(range(1, window.days + 1))
        axes.bar(days, window.daily, width=0.9, color="tab:blue")
        mean = window.items / window.days
        axes.axhline(mean, color="tab:orange", linestyle="--", linewidth=1)
        axes.annotate(
            f"mean {mean:.2f} a day",
            xy=(1.0, mean),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color="tab:orange",
        )
        unit = "working day" if window.working_days else "day"
        axes.set_xlabel(f"{unit} of the window ({window.first} to {window.last})")
        axes.set_ylabel("items done")
        from matplotlib.ticker import MaxNLocator

        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        _headroom(axes, window.daily)
        axes.set_title(f"Throughput: {window.items} items in {window.days} {unit}s")
    return Path(path)


def _histogram(
    axes: Axes, outcomes: Sequence[float], lines: Mapping[int, float], unit: str
) -> None:
    """One bar per outcome value (share of trials), and a line per percentile."""
    finite = [value for value in outcomes if value != float("inf")]
    counts = Counter(finite)
    values = sorted(counts)
    total = len(outcomes)
    shares = [counts[value] / total for value in values]
    axes.bar(values, shares, width=0.9, color="tab:blue")
    top = max(shares, default=0.0)
    for level, value in lines.items():
        if value == float("inf"):
            continue
        colour = _LEVEL_COLOURS.get(level, "0.3")
        axes.axvline(value, color=colour, linestyle="--", linewidth=1)
        axes.annotate(
            f"{level}%: {value:g} {unit}",
            xy=(value, top * (1.02 + 0.06 * list(lines).index(level))),
            xytext=(2, 0),
            textcoords="offset points",
            fontsize=8,
            color=colour,
        )
    axes.set_ylim(0, top * 1.3 + 1e-9)
    axes.set_ylabel("share of trials")


def when_histogram(forecast: WhenForecast, path: str | os.PathLike[str]) -> Path:
    """Days needed in each trial, with the percentile lines."""
    with _figure(path, 9.0, 4.5) as figure:
        axes = figure.add_subplot(1, 1, 1)
        _histogram(axes, forecast.outcomes, forecast.days, "d")
        unit = "working days" if forecast.window.working_days else "days"
        axes.set_xlabel(f"{unit} to finish {forecast.items} items (day 1 = {forecast.start})")
        axes.set_title(f"When will {forecast.items} items be done? ({forecast.trials:,} trials)")
    return Path(path)


def how_many_histogram(forecast: HowManyForecast, path: str | os.PathLike[str]) -> Path:
    """Items done in each trial, with the percentile lines."""
    with _figure(path, 9.0, 4.5) as figure:
        axes = figure.add_subplot(1, 1, 1)
        lines = {level: float(count) for level, count in forecast.items.items()}
        _histogram(axes, forecast.outcomes, lines, "items")
        axes.set_xlabel(f"items done in {forecast.days} days (up to {forecast.until})")
        axes.set_title(f"How many items by {forecast.until}? ({forecast.trials:,} trials)")
    return Path(path)


def cycle_time_scatter(history: History, path: str | os.PathLike[str]) -> Path:
    """Done date against cycle time (done − work started, calendar days), percentile lines."""
    done = [item.done for item in history.items if item.done is not None]
    origin = min(done) if done else None
    rows = []
    for item in history.items:
        started = history.started(item)
        if item.done is None or started is None or origin is None:
            continue
        rows.append({"started": (started - origin).days, "done": (item.done - origin).days})
    return _items_scatter(rows, path)
