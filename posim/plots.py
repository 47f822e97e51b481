"""Charts for strategy comparison and flow analysis (matplotlib, the ``plots`` extra).

Every function draws one figure and writes it to ``path``; the format comes
from the suffix (``.svg`` or ``.png``) and the path is returned. matplotlib is
imported inside the functions, so ``import posim.plots`` is cheap and works
without it; a missing matplotlib raises :class:`PlotsUnavailable` with the
install hint. Figures are built with :class:`matplotlib.figure.Figure`
directly (no pyplot, no global backend switch, no open-figure registry) and
rendered with the Agg-based canvases.

Output is byte-stable: the same inputs give byte-identical SVG (the SVG
hash salt is fixed and the date left out) and PNG (no version string) on the
same matplotlib and fonts. Nothing here is random: points that share a
column in the aging chart are spread evenly, not jittered.

Item rows (``items``) are dicts of day numbers (floats, or ``None`` when the
item has not reached that stage): ``arrived``, ``committed``, ``started``,
``done`` and ``entered_<column>`` for each work column — the first time the
item entered that column. Percentiles are type 7 (see :mod:`posim.stats`).
"""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim.stats import percentile

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PlotsUnavailable",
    "aging_wip",
    "box_plots",
    "cumulative_flow",
    "cumulative_flow_counts",
    "cycle_time_scatter",
    "sweep_plot",
]

INSTALL_HINT = "plots need matplotlib: pip install 'posim[plots]'"
"""The message of :class:`PlotsUnavailable`."""

_FORMATS = {".svg": "svg", ".png": "png"}
_PERCENTILE_LINES = ((50, "tab:green"), (85, "tab:orange"), (95, "tab:red"))
_RC: Any = {  # typed loosely: matplotlib types its keys as a Literal of every rcParam
    "svg.hashsalt": "posim",
    "svg.fonttype": "path",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


class PlotsUnavailable(Exception):
    """matplotlib is not installed; the message says how to install it."""

    def __init__(self, message: str = INSTALL_HINT) -> None:
        super().__init__(message)


def _format_of(path: Path) -> str:
    """``"svg"`` or ``"png"`` from the path's suffix, or a ValueError."""
    try:
        return _FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(
            f"{path}: plot files must end in .svg or .png, got {path.suffix or 'no suffix'!r}"
        ) from None


@contextmanager
def _figure(path: str | os.PathLike[str], width: float, height: float) -> Iterator[Figure]:
    """Yield a fresh figure and write it to ``path`` on a clean exit.

    Raises:
        PlotsUnavailable: when matplotlib cannot be imported.
        ValueError: when the suffix is neither .svg nor .png.
    """
    target = Path(path)
    file_format = _format_of(target)
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotsUnavailable() from None
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        yield figure
        metadata = {"Date": None} if file_format == "svg" else {"Software": None}
        figure.savefig(target, format=file_format, metadata=metadata)


def _grid(count: int, columns: int = 3) -> tuple[int, int]:
    """Rows and columns for ``count`` subplots, at most ``columns`` wide."""
    across = max(1, min(columns, count))
    return math.ceil(max(count, 1) / across), across


def _subplots(figure: Figure, count: int) -> list[Axes]:
    """``count`` axes on a grid; unused cells are hidden."""
    rows, across = _grid(count)
    axes = [figure.add_subplot(rows, across, index + 1) for index in range(rows * across)]
    for unused in axes[count:]:
        unused.set_visible(False)
    return axes[:count]


def _empty_note(axes: Axes, text: str) -> None:
    """Write ``text`` in the middle of empty axes."""
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="0.4")


def _percentile_lines(axes: Axes, values: Sequence[float], unit: str = "d") -> None:
    """Horizontal 50/85/95th percentile lines of ``values``, labelled at the right."""
    if not values:
        return
    for level, colour in _PERCENTILE_LINES:
        value = percentile(values, level)
        if value is None:
            continue
        axes.axhline(value, color=colour, linestyle="--", linewidth=1)
        axes.annotate(
            f"{level}%: {value:.1f} {unit}",
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color=colour,
        )


def _headroom(axes: Axes, heights: Sequence[float]) -> None:
    """Y axis from 0 to a little above the highest value, room for line labels."""
    axes.set_ylim(0, max(heights, default=0.0) * 1.1 + 0.5)


def box_plots(
    per_strategy: Mapping[str, Mapping[str, Sequence[float | None]]],
    metrics: Sequence[str],
    path: str | os.PathLike[str],
) -> Path:
    """One subplot per metric, one box per strategy (in the mapping's order).

    ``per_strategy[strategy][metric]`` holds that metric's value in each
    replication; ``None`` values are left out. Boxes are quartiles, whiskers
    1.5 IQR, the triangle is the mean.
    """
    strategies = list(per_strategy)
    rows, across = _grid(len(metrics))
    width = max(4.0, 1.2 * len(strategies) + 1.5) * across
    with _figure(path, width, 3.2 * rows + 0.4) as figure:
        for axes, metric in zip(_subplots(figure, len(metrics)), metrics, strict=True):
            samples = [
                [float(value) for value in per_strategy[name].get(metric, []) if value is not None]
                for name in strategies
            ]
            axes.set_title(metric, fontsize=10)
            if not any(samples):
                _empty_note(axes, "no values")
                axes.set_xticks(range(1, len(strategies) + 1), strategies)
                axes.set_xlim(0.5, len(strategies) + 0.5)
                continue
            axes.boxplot([sample if sample else [math.nan] for sample in samples], showmeans=True)
            axes.set_xticks(range(1, len(strategies) + 1), strategies)
            axes.tick_params(axis="x", labelrotation=20, labelsize=8)
    return Path(path)


def _reach_times(item: Mapping[str, Any], stages: Sequence[str]) -> list[float | None]:
    """When the item first reached each stage *or any later one*.

    Items may skip columns (no effort there), so a stage counts as reached
    as soon as any later stage is; this keeps the CFD bands nested.
    """
    reached: list[float | None] = []
    earliest: float | None = None
    for stage in reversed(stages):
        value = item.get(stage)
        if value is not None and (earliest is None or float(value) < earliest):
            earliest = float(value)
        reached.append(earliest)
    return list(reversed(reached))


def cumulative_flow_counts(
    items: Sequence[Mapping[str, Any]], columns: Sequence[str], horizon: float
) -> tuple[list[float], list[tuple[str, list[int]]]]:
    """The numbers behind :func:`cumulative_flow` (pure Python, no matplotlib).

    Returns ``(days, curves)``: ``days`` are 0, ``horizon`` and every stage
    change in between, sorted; ``curves`` is ``[(band, counts), ...]`` for the
    bands backlog, ready, each column, done (in that order), where
    ``counts[i]`` is the number of items in that band *or a later one* at
    ``days[i]`` (a step function, constant until the next day). An item that
    skipped a stage counts as having reached it when it reached a later one.
    Items declined before being committed (a ``declined`` day and no
    ``committed`` day) are left out: they never joined the flow, and curves
    of a CFD only ever rise.
    """
    stages = ["arrived", "committed", *(f"entered_{column}" for column in columns), "done"]
    labels = ["backlog", "ready", *columns, "done"]
    flowing = [
        item for item in items if item.get("declined") is None or item.get("committed") is not None
    ]
    reach = [_reach_times(item, stages) for item in flowing]
    reached_at = [
        sorted(day for day in (row[index] for row in reach) if day is not None)
        for index in range(len(stages))
    ]
    days = sorted(
        {0.0, float(horizon), *(d for times in reached_at for d in times if d <= horizon)}
    )
    curves = [
        (label, [bisect_right(times, day) for day in days])
        for label, times in zip(labels, reached_at, strict=True)
    ]
    return days, curves


def cumulative_flow(
    items: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    horizon: float,
    path: str | os.PathLike[str],
) -> Path:
    """Cumulative flow diagram from per-item timestamps over ``[0, horizon]``.

    Curves count the items that have reached each stage by each day:
    arrived, committed, ``entered_<column>`` for each column, done (see
    :func:`cumulative_flow_counts`). The bands between them are, from the
    top: backlog, ready, each column, done.
    """
    days, curves = cumulative_flow_counts(items, columns, horizon)
    with _figure(path, 9.0, 5.0) as figure:
        axes = figure.add_subplot(1, 1, 1)
        colours = _band_colours(len(curves))
        for index in range(len(curves) - 1, -1, -1):
            label, upper = curves[index]
            lower = curves[index + 1][1] if index + 1 < len(curves) else [0] * len(days)
            axes.fill_between(
                days, lower, upper, step="post", color=colours[index], label=label, linewidth=0
            )
        axes.set_xlim(0, horizon)
        axes.set_ylim(bottom=0)
        axes.set_xlabel("day")
        axes.set_ylabel("items")
        axes.set_title("Cumulative flow")
        handles, names = axes.get_legend_handles_labels()
        axes.legend(handles[::-1], names[::-1], loc="upper left", fontsize=8)
    return Path(path)


def _band_colours(count: int) -> list[Any]:
    """Distinct colours for ``count`` CFD bands, from a qualitative map."""
    from matplotlib import colormaps

    cmap = colormaps["tab20"] if count > 10 else colormaps["tab10"]
    return [cmap(index % cmap.N) for index in range(count)]


def _cycle_times(items: Sequence[Mapping[str, Any]]) -> list[tuple[float, float]]:
    """``(done day, cycle time)`` for each item with both ``started`` and ``done``."""
    return [
        (float(item["done"]), float(item["done"]) - float(item["started"]))
        for item in items
        if item.get("done") is not None and item.get("started") is not None
    ]


def cycle_time_scatter(items: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Done day against cycle time (done − started), with 50/85/95th percentile lines."""
    points = _cycle_times(items)
    with _figure(path, 9.0, 5.0) as figure:
        axes = figure.add_subplot(1, 1, 1)
        if points:
            axes.scatter(
                [day for day, _ in points], [days for _, days in points], s=14, color="tab:blue"
            )
            _percentile_lines(axes, [days for _, days in points])
        else:
            _empty_note(axes, "no items done")
        axes.set_xlabel("done (day)")
        axes.set_ylabel("cycle time (days)")
        _headroom(axes, [days for _, days in points])
        axes.set_title(f"Cycle time scatter ({len(points)} items)")
    return Path(path)


def _current_column(item: Mapping[str, Any], columns: Sequence[str], at_day: float) -> int:
    """Index of the column the item entered last at or before ``at_day`` (0 if none)."""
    current, entered_at = 0, -math.inf
    for index, column in enumerate(columns):
        entered = item.get(f"entered_{column}")
        if entered is not None and entered_at <= float(entered) <= at_day:
            current, entered_at = index, float(entered)
    return current


def aging_wip(
    items: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    at_day: float,
    path: str | os.PathLike[str],
) -> Path:
    """Aging work in progress at ``at_day`` (ActionableAgile style).

    Each item started at or before ``at_day`` and not done by then is a dot:
    its age (``at_day - started``) in its current column (the last column it
    entered at or before ``at_day``). The horizontal lines are the 50/85/95th
    percentile cycle times of items done by ``at_day``; dots are coloured by
    the band their age falls in.
    """
    in_progress = [
        item
        for item in items
        if item.get("started") is not None
        and float(item["started"]) <= at_day
        and (item.get("done") is None or float(item["done"]) > at_day)
    ]
    finished = [days for day, days in _cycle_times(items) if day <= at_day]
    thresholds = [percentile(finished, level) for level, _ in _PERCENTILE_LINES]
    by_column: dict[int, list[float]] = {}
    for item in in_progress:
        column = _current_column(item, columns, at_day)
        by_column.setdefault(column, []).append(at_day - float(item["started"]))
    with _figure(path, max(6.0, 1.6 * len(columns) + 2.0), 5.0) as figure:
        axes = figure.add_subplot(1, 1, 1)
        for column, ages in sorted(by_column.items()):
            ages.sort()
            spread = [
                column + (0.0 if len(ages) == 1 else -0.3 + 0.6 * rank / (len(ages) - 1))
                for rank in range(len(ages))
            ]
            axes.scatter(spread, ages, s=24, c=[_age_colour(age, thresholds) for age in ages])
        _percentile_lines(axes, finished)
        axes.set_xticks(range(len(columns)), list(columns))
        axes.set_xlim(-0.6, len(columns) - 0.4)
        _headroom(axes, [age for ages in by_column.values() for age in ages] + finished)
        axes.set_ylabel("age (days since start)")
        axes.set_title(f"Aging WIP at day {at_day:g} ({len(in_progress)} items)")
        if not in_progress:
            _empty_note(axes, "no work in progress")
    return Path(path)


def _age_colour(age: float, thresholds: Sequence[float | None]) -> str:
    """Green below the 50th percentile, then yellow, orange, red above the 95th."""
    colours = ["tab:green", "gold", "tab:orange"]
    for limit, colour in zip(thresholds, colours, strict=True):
        if limit is None:
            return "tab:blue"
        if age < limit:
            return colour
    return "tab:red"


def _is_number(value: Any) -> bool:
    """True for ints and floats, not bools."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def sweep_plot(
    parameter: str,
    values: Sequence[Any],
    per_value: Mapping[Any, Mapping[str, Mapping[str, Any]]],
    metrics: Sequence[str],
    path: str | os.PathLike[str],
) -> Path:
    """Each metric's mean with its 95 % CI as error bars against the parameter.

    ``per_value[value][metric]`` is a :func:`posim.stats.summary` dict (only
    ``mean`` and ``ci95`` are read; ``None`` means no point). Numeric
    parameter values go on a numeric axis, anything else is categorical in
    the given order. A WIP-limit sweep shows the U-curve here.
    """
    numeric = all(_is_number(value) for value in values)
    positions = [float(value) for value in values] if numeric else list(range(len(values)))
    rows, across = _grid(len(metrics))
    with _figure(path, 4.2 * across, 3.2 * rows + 0.4) as figure:
        for axes, metric in zip(_subplots(figure, len(metrics)), metrics, strict=True):
            xs: list[float] = []
            means: list[float] = []
            below: list[float] = []
            above: list[float] = []
            for position, value in zip(positions, values, strict=True):
                stats = per_value.get(value, {}).get(metric) or {}
                mean = stats.get("mean")
                if mean is None:
                    continue
                interval = stats.get("ci95") or [mean, mean]
                xs.append(position)
                means.append(float(mean))
                below.append(float(mean) - float(interval[0]))
                above.append(float(interval[1]) - float(mean))
            if xs:
                axes.errorbar(xs, means, yerr=[below, above], marker="o", capsize=3, linewidth=1)
            else:
                _empty_note(axes, "no values")
            if not numeric:
                axes.set_xticks(positions, [str(value) for value in values])
            if positions:
                margin = 0.05 * (max(positions) - min(positions)) or 0.5
                axes.set_xlim(min(positions) - margin, max(positions) + margin)
            axes.set_title(metric, fontsize=10)
            axes.set_xlabel(parameter, fontsize=8)
    return Path(path)
