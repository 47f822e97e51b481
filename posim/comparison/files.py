"""The files of ``compare --out`` and ``sweep --out``: CSV, JSON, SVG plots and the PARTIAL mark."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim.engine import METRIC_NAMES
from posim.flowcsv import DEFAULT_START, write_flows
from posim.runs import dumps_json

if TYPE_CHECKING:
    from posim.comparison.comparing import Comparison
    from posim.comparison.sweeping import Sweep
    from posim.scenario import Scenario

COMPARE_CSV = "runs.csv"
"""``posim compare --out``: one row per replication x strategy."""
COMPARE_JSON = "compare.json"
"""``posim compare --out``: the ``--json`` document."""
SWEEP_CSV = "runs.csv"
"""``posim sweep --out``: one row per replication x value."""
SWEEP_JSON = "sweep.json"
"""``posim sweep --out``: the ``--json`` document."""
PARTIAL_FILE = "PARTIAL"
"""Written next to the results of an interrupted run, saying how far it got."""


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _slug(text: str) -> str:
    """A file-name-safe version of a strategy spec."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("._") or "strategy"


def _mark_partial(out: Path, done: int, requested: int) -> None:
    partial = out / PARTIAL_FILE
    if done < requested:
        partial.write_text(
            f"interrupted: {done} of {requested} replications finished; "
            "the files here hold the finished ones\n",
            encoding="utf-8",
        )
    elif partial.exists():
        partial.unlink()


def write_comparison(
    result: Comparison,
    out: Path | str,
    version: str,
    scenario: Scenario,
    plots: bool = True,
    metrics: Sequence[str] = METRIC_NAMES,
    start_date: dt.date = DEFAULT_START,
) -> list[Path]:
    """Write ``runs.csv``, ``compare.json``, the flow files and the plots into ``out``.

    ``flow-<strategy>.csv`` (:mod:`posim.flowcsv`, day 0 on ``start_date``)
    for each strategy whose item rows were kept (replication 0).  Returns the
    files written.

    Plots (SVG): ``box_plots.svg`` (one box per strategy for each of
    ``metrics``), and for replication 0 of each strategy whose item rows were
    kept: ``cfd-<strategy>.svg``, ``cycle_time-<strategy>.svg`` (with
    50/85/95th percentile lines) and ``aging_wip-<strategy>.svg`` (at the
    horizon).  An interrupted comparison also gets a ``PARTIAL`` file.

    Raises:
        posim.plots.PlotsUnavailable: ``plots`` is true and matplotlib is missing
            (the CSV and JSON are written first).
        OSError: the folder cannot be written.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / COMPARE_CSV, folder / COMPARE_JSON]
    with open(written[0], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["replication", "seed", "strategy", "ordering", "reporting", *METRIC_NAMES])
        for replication, seed in enumerate(result.seeds):
            for name, spec in result.specs.items():
                row = [result.values[name][metric][replication] for metric in METRIC_NAMES]
                writer.writerow(
                    [replication, seed, name, spec.ordering, spec.reporting, *map(_cell, row)]
                )
    written[1].write_text(dumps_json(result.to_json(version)), encoding="utf-8")
    written += write_flows(folder, result.items, scenario.activities, start_date)
    _mark_partial(folder, result.runs, result.runs_requested)
    if not plots:
        return written
    from posim import plots as charts

    with_values = [
        metric
        for metric in metrics
        if any(result.summary[name][metric]["n"] for name in result.strategies)
    ]
    written.append(
        charts.box_plots(
            {name: result.values[name] for name in result.strategies},
            with_values or list(metrics),
            folder / "box_plots.svg",
        )
    )
    used: set[str] = set()
    for name in result.strategies:
        rows = result.items.get(name)
        if rows is None:
            continue
        slug = _slug(name)
        if slug in used:
            slug = f"{slug}-{result.strategies.index(name)}"
        used.add(slug)
        columns = scenario.activities
        horizon = scenario.horizon_days
        written.append(charts.cumulative_flow(rows, columns, horizon, folder / f"cfd-{slug}.svg"))
        written.append(charts.cycle_time_scatter(rows, folder / f"cycle_time-{slug}.svg"))
        written.append(charts.aging_wip(rows, columns, horizon, folder / f"aging_wip-{slug}.svg"))
    return written


def write_sweep(
    result: Sweep,
    out: Path | str,
    version: str,
    plots: bool = True,
    metrics: Sequence[str] = METRIC_NAMES,
) -> list[Path]:
    """Write ``runs.csv``, ``sweep.json`` and ``sweep.svg`` (each of ``metrics`` against the value).

    Metrics without a value in any run are left out of the plots (and of the box plots).

    Raises:
        posim.plots.PlotsUnavailable: ``plots`` is true and matplotlib is missing
            (the CSV and JSON are written first).
        OSError: the folder cannot be written.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / SWEEP_CSV, folder / SWEEP_JSON]
    with open(written[0], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["replication", "seed", result.parameter, *METRIC_NAMES])
        for replication, seed in enumerate(result.seeds):
            for value, per_value in zip(result.parameter_values, result.values, strict=True):
                row = [per_value[metric][replication] for metric in METRIC_NAMES]
                shown = "none" if value is None else value
                writer.writerow([replication, seed, shown, *map(_cell, row)])
    written[1].write_text(dumps_json(result.to_json(version)), encoding="utf-8")
    _mark_partial(folder, result.runs, result.runs_requested)
    if not plots:
        return written
    from posim.plots import sweep_plot

    shown_values = ["none" if value is None else value for value in result.parameter_values]
    summaries = dict(zip(shown_values, result.summary, strict=True))
    with_values = [
        metric for metric in metrics if any(summary[metric]["n"] for summary in result.summary)
    ]
    written.append(
        sweep_plot(
            result.parameter,
            shown_values,
            summaries,
            with_values or list(metrics),
            folder / "sweep.svg",
        )
    )
    return written
