"""The charts tab: throughput, cumulative flow, cycle-time scatter, aging WIP.

The series are computed by plain functions from the engine's per-item rows
(``result.items``), so they are tested without a terminal; the widgets draw
them with textual-plotext.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid
from textual_plotext import PlotextPlot

from posim.engine.metrics import percentile
from posim.engine.simulation import Snapshot


def throughput_per_day(items: Sequence[dict[str, Any]], now: float) -> list[int]:
    """Items done in each whole day ``0 .. ceil(now) - 1``."""
    days = max(1, math.ceil(now - 1e-9))
    counts = [0] * days
    for row in items:
        done = row["done"]
        if done is not None:
            counts[min(int(done), days - 1)] += 1
    return counts


def cumulative_flow(
    items: Sequence[dict[str, Any]], columns: Sequence[str], now: float
) -> dict[str, list[int]]:
    """Cumulative arrivals into each state at the end of each whole day.

    Keys in board order: ``backlog`` (accepted or initial), ``ready``, each
    column, ``done``.  Declined requests and the inbox are not counted.
    """
    days = max(1, math.floor(now + 1e-9))
    stamps: dict[str, list[float]] = {"backlog": [], "ready": []}
    for column in columns:
        stamps[column] = []
    stamps["done"] = []
    for row in items:
        if row["state"] in ("inbox", "declined"):
            continue
        stamps["backlog"].append(row["arrived"])
        if row["committed"] is not None:
            stamps["ready"].append(row["committed"])
        for column in columns:
            entered = row.get(f"entered_{column}")
            if entered is not None:
                stamps[column].append(entered)
        if row["done"] is not None:
            stamps["done"].append(row["done"])
    return {
        state: [sum(1 for t in times if t <= day) for day in range(1, days + 1)]
        for state, times in stamps.items()
    }


def cycle_times(items: Sequence[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """(done day, cycle time) of every done item, by done day."""
    points = sorted(
        (row["done"], row["cycle_time"]) for row in items if row["cycle_time"] is not None
    )
    return [p[0] for p in points], [p[1] for p in points]


def cycle_time_percentiles(times: Sequence[float]) -> dict[int, float]:
    """50th, 85th and 95th percentile of cycle times (empty with no data)."""
    if not times:
        return {}
    ordered = sorted(times)
    return {q: percentile(ordered, q) for q in (50, 85, 95)}


def aging_wip(snapshot: Snapshot) -> list[tuple[int, str, float, int]]:
    """(column index, column name, age in days, item id) of every item in a work column."""
    rows = []
    for index, column in enumerate(snapshot.columns):
        for item in column.items:
            started = item.started if item.started is not None else snapshot.time
            rows.append((index, column.name, snapshot.time - started, item.id))
    return rows


class ChartsPanel(Grid, can_focus=True):
    """Four plots of the game so far (focusable, so the board's keys work on this tab)."""

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="chart-throughput")
        yield PlotextPlot(id="chart-cfd")
        yield PlotextPlot(id="chart-cycle")
        yield PlotextPlot(id="chart-aging")

    def show(
        self, items: Sequence[dict[str, Any]], columns: Sequence[str], snapshot: Snapshot
    ) -> None:
        """Redraw every plot from the engine's item rows and the snapshot."""
        now = snapshot.time
        plot = self.query_one("#chart-throughput", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        counts = throughput_per_day(items, now)
        plt.bar(list(range(len(counts))), counts)
        plt.title("Throughput (items done per day)")
        plot.refresh()

        plot = self.query_one("#chart-cfd", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        flow = cumulative_flow(items, columns, now)
        days = list(range(1, len(flow["done"]) + 1))
        for state, counts in flow.items():
            plt.plot(days, counts, label=state)
        plt.title("Cumulative flow")
        plot.refresh()

        plot = self.query_one("#chart-cycle", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        done_days, times = cycle_times(items)
        marks = cycle_time_percentiles(times)
        if times:
            plt.scatter(done_days, times)
            for value, colour in zip(marks.values(), ("green", "orange", "red"), strict=True):
                plt.hline(value, colour)
        lines = " · ".join(f"{q}%: {value:.1f}d" for q, value in marks.items())
        plt.title(f"Cycle time by day done (lines {lines or 'after the first item'})")
        plot.refresh()

        plot = self.query_one("#chart-aging", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        aging = aging_wip(snapshot)
        if aging:
            plt.scatter([a[0] + 1 for a in aging], [a[2] for a in aging])
        plt.xticks(list(range(1, len(columns) + 1)), list(columns))
        plt.title("Aging work in progress (days since start)")
        plot.refresh()
