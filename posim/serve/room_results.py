"""A workshop room's results: the class beside the built-in strategies on the same luck.

Read from the players' status files (:mod:`posim.room_status`), so the
figures are exactly what each game computed.  For every seed the class
played, every built-in ordering plays the same scenario with that seed
(common random numbers: the same arrivals, efforts and blockers), as the
game's own debrief does.  The scenario's lesson
(:data:`posim.career.LESSON_CHECKS`) names the strategy it warns against; a
finished player "beats" it when their metric is better than that strategy's
on their own seed.
"""

from __future__ import annotations

import csv
import html
import io
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PLAYER_COLUMNS = ("name", "seed", "day", "finished", "score", "grade")
"""The first columns of ``results.csv``; every metric follows."""

SPREAD_METRICS = (("score", "score"), ("net_value", "net value"), ("trust_mean", "trust"))
"""The metrics whose spread over the class is drawn: key, label."""


def metric_names() -> tuple[str, ...]:
    """Every metric, in the engine's order."""
    from posim.engine import METRIC_NAMES

    return tuple(METRIC_NAMES)


def player_row(status: Mapping[str, Any]) -> dict[str, Any]:
    """One ``results.csv`` row from a player's status."""
    metrics = status.get("metrics") or {}
    row = {key: status.get(key) for key in PLAYER_COLUMNS}
    for name in metric_names():
        row[name] = metrics.get(name)
    return row


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """``results.csv``: a header, then one row per player (empty cells for no value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = [*PLAYER_COLUMNS, *metric_names()]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(column)) for column in columns])
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell a spreadsheet would run as a formula begins."""


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell: empty for no value; text a spreadsheet would run as a formula quoted.

    Players choose their names, and a trainer opens ``results.csv`` in a
    spreadsheet: a name such as ``=HYPERLINK(...)`` gets a leading ``'`` so it
    shows as text (the usual defence against CSV injection).  Numbers are
    written as they are (a negative net value stays a number).
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class Strategies:
    """The built-in orderings' results per seed, computed once per seed."""

    scenario: Any
    """The room's :class:`~posim.scenario.Scenario`."""
    by_seed: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """seed -> ordering -> ``{"score", "grade", "metrics"}``."""
    warned: dict[int, float | None] = field(default_factory=dict)
    """seed -> the lesson's warned-against side's metric."""

    def of(self, seed: int) -> dict[str, dict[str, Any]]:
        """Every ordering on ``seed`` (run now if not yet)."""
        if seed not in self.by_seed:
            from posim.engine import ORDERINGS, simulate

            runs = {}
            for name in ORDERINGS:
                result = simulate(self.scenario, strategy=name, seed=seed, keep_records=False)
                runs[name] = {
                    "score": result.score.total,
                    "grade": result.score.grade,
                    "metrics": dict(result.metrics),
                }
            self.by_seed[seed] = runs
        return self.by_seed[seed]

    def warned_against(self, seed: int) -> float | None:
        """The lesson's warned-against side's metric on ``seed`` (None: no lesson)."""
        check = lesson_of(self.scenario)
        if check is None:
            return None
        if seed not in self.warned:
            from posim import career
            from posim.engine import simulate

            scenario = self.scenario
            if check.ignores_variant is not None:
                scenario = career.variant(scenario, check.ignores_variant)
            result = simulate(scenario, strategy=check.ignores, seed=seed, keep_records=False)
            self.warned[seed] = result.metrics[check.metric]
        return self.warned[seed]


def lesson_of(scenario: Any) -> Any:
    """The :class:`~posim.career.LessonCheck` of a built-in scenario (None for others)."""
    from posim import career

    return career.lesson_check(scenario.name)


def _better(mine: float | None, theirs: float | None, lower_is_better: bool) -> bool:
    if mine is None or theirs is None:
        return False
    return mine < theirs if lower_is_better else mine > theirs


def class_debrief(rows: Sequence[Mapping[str, Any]], strategies: Strategies) -> dict[str, Any]:
    """The class debrief: players and strategies on the same luck, the spread, the lesson."""
    seeds = sorted({int(row["seed"]) for row in rows if row.get("seed") is not None})
    same_luck: list[dict[str, Any]] = []
    for row in rows:
        if row.get("seed") is None:
            continue
        runs = strategies.of(int(row["seed"]))
        beaten = sum(1 for run in runs.values() if (row.get("score") or 0) > run["score"])
        same_luck.append({"name": row["name"], "beats_strategies": beaten, "of": len(runs)})
    by_strategy: dict[str, dict[str, Any]] = {}
    for seed in seeds:
        for name, run in strategies.of(seed).items():
            entry = by_strategy.setdefault(name, {"scores": [], "metrics": [], "grades": []})
            entry["scores"].append(run["score"])
            entry["grades"].append(run["grade"])
            entry["metrics"].append(run["metrics"])
    strategy_rows = [
        {
            "strategy": name,
            "score": statistics.fmean(entry["scores"]),
            "grade": entry["grades"][0] if len(entry["grades"]) == 1 else "",
            "net_value": _mean(m.get("net_value") for m in entry["metrics"]),
            "trust_mean": _mean(m.get("trust_mean") for m in entry["metrics"]),
            "seeds": len(entry["scores"]),
        }
        for name, entry in by_strategy.items()
    ]
    lesson: dict[str, Any] | None = None
    check = lesson_of(strategies.scenario)
    if check is not None:
        finished = [row for row in rows if row.get("finished") and row.get("seed") is not None]
        beat = [
            row["name"]
            for row in finished
            if _better(
                row.get(check.metric),
                strategies.warned_against(int(row["seed"])),
                check.lower_is_better,
            )
        ]
        lesson = {
            "lesson": strategies.scenario.lesson,
            "metric": check.metric,
            "warned_against": check.ignores_label or check.ignores,
            "lower_is_better": check.lower_is_better,
            "finished_players": len(finished),
            "beat_it": len(beat),
            "players_who_beat_it": beat,
        }
    spread = {key: _five_numbers([row.get(key) for row in rows]) for key, _label in SPREAD_METRICS}
    return {
        "seeds": seeds,
        "strategies": strategy_rows,
        "same_luck": same_luck,
        "lesson": lesson,
        "spread": spread,
    }


def _mean(values: Iterable[float | None]) -> float | None:
    numbers = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(numbers) if numbers else None


def _five_numbers(values: Sequence[float | None]) -> dict[str, float] | None:
    """Minimum, quartiles and maximum of the values present (None when there are none)."""
    numbers = sorted(v for v in values if v is not None and math.isfinite(v))
    if not numbers:
        return None
    if len(numbers) == 1:
        q1 = median = q3 = numbers[0]
    else:
        q1, median, q3 = statistics.quantiles(numbers, n=4, method="inclusive")
    return {
        "min": numbers[0],
        "q1": q1,
        "median": median,
        "q3": q3,
        "max": numbers[-1],
        "n": float(len(numbers)),
    }


def spread_svg(
    rows: Sequence[Mapping[str, Any]], strategy_rows: Sequence[Mapping[str, Any]]
) -> str:
    """Box plots of score, net value and trust over the class, the strategies as ticks.

    One panel per metric: the box spans the quartiles with the median marked,
    whiskers reach the extremes, every player is a dot, every strategy a
    labelled tick above the axis.
    """
    width, panel, left, right = 760, 112, 110, 30
    height = panel * len(SPREAD_METRICS) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#0c181f"/>',
    ]
    for index, (key, label) in enumerate(SPREAD_METRICS):
        top = index * panel + 10
        players = [float(r[key]) for r in rows if _number(r.get(key))]
        marks = [(str(s["strategy"]), float(s[key])) for s in strategy_rows if _number(s.get(key))]
        everything = players + [value for _, value in marks]
        axis_y = top + 80
        parts.append(f'<text x="8" y="{axis_y - 12}" fill="#e8eef2">{html.escape(label)}</text>')
        if not everything:
            parts.append(f'<text x="{left}" y="{axis_y - 12}" fill="#8da2ae">no data yet</text>')
            continue
        low, high = min(everything), max(everything)
        if high - low < 1e-9:
            low, high = low - 1, high + 1

        def x(value: float, low: float = low, high: float = high) -> float:
            return left + (value - low) / (high - low) * (width - left - right)

        parts.append(
            f'<line x1="{left}" y1="{axis_y + 14}" x2="{width - right}" y2="{axis_y + 14}" '
            'stroke="#2b3d48"/>'
        )
        for value in (low, high):
            parts.append(
                f'<text x="{x(value):.1f}" y="{axis_y + 27}" fill="#8da2ae" '
                f'text-anchor="middle">{value:,.0f}</text>'
            )
        level_ends: list[float] = []  # where the last label of each level ends
        for name, value in sorted(marks, key=lambda m: m[1]):
            half = 3.4 * len(name) + 3  # about half the label's width in pixels
            level = next(
                (n for n, end in enumerate(level_ends) if end < x(value) - half),
                len(level_ends),
            )
            if level == len(level_ends):
                level_ends.append(0.0)
            level_ends[level] = x(value) + half
            lift = 12 * min(level, 3)
            parts.append(
                f'<line x1="{x(value):.1f}" y1="{axis_y - 30 - lift}" x2="{x(value):.1f}" '
                f'y2="{axis_y + 14}" stroke="#ffd166" stroke-dasharray="2,2"/>'
                f'<text x="{x(value):.1f}" y="{axis_y - 33 - lift}" fill="#ffd166" '
                f'text-anchor="middle">{html.escape(name)}</text>'
            )
        summary = _five_numbers(players)
        if summary is not None:
            q1, median, q3 = x(summary["q1"]), x(summary["median"]), x(summary["q3"])
            parts.append(
                f'<line x1="{x(summary["min"]):.1f}" y1="{axis_y}" x2="{x(summary["max"]):.1f}" '
                f'y2="{axis_y}" stroke="#7fb4ff"/>'
                f'<rect x="{q1:.1f}" y="{axis_y - 9}" width="{max(q3 - q1, 1):.1f}" height="18" '
                'fill="#7fb4ff" fill-opacity="0.25" stroke="#7fb4ff"/>'
                f'<line x1="{median:.1f}" y1="{axis_y - 9}" x2="{median:.1f}" y2="{axis_y + 9}" '
                'stroke="#e8eef2" stroke-width="2"/>'
            )
        for value in players:
            parts.append(
                f'<circle cx="{x(value):.1f}" cy="{axis_y}" r="3.5" fill="#06d6a0" '
                'fill-opacity="0.8"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
