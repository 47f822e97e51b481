"""``flow.csv``: a run's items in the layout flow-analytics tools read (DESIGN section 6).

One row per item that entered the backlog (requests declined or still in the
inbox have none): ``ID,Link,Name,Backlog,Ready,<each column>,Done,Type,Class,Requester``,
each stage column holding the date the item *first* entered it (ISO
``YYYY-MM-DD``, blank if never).  Working day ``t`` maps to the
``floor(t)``-th weekday after the start date (a Monday, default 2025-01-06):
day 0.3 is the start date itself, day 5 the Monday after.  A workflow column
named ``Backlog``, ``Ready`` or ``Done`` is written as ``<name> (work)``.

ActionableAgile, jira-agile-metrics and posim's own ``forecast`` and
``calibrate`` read it back (:mod:`posim.history`).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_START = dt.date(2025, 1, 6)
"""Day 0 of a run in ``flow.csv``: a Monday."""

FLOW_CSV = "flow.csv"
"""The file name ``posim run --out`` writes."""

_RESERVED = {"backlog", "ready", "done"}


def check_start(start: dt.date) -> None:
    """Raise ValueError unless ``start`` is a Monday (day 0 of posim's clock is one)."""
    if start.weekday() != 0:
        raise ValueError(
            f"--start-date {start} is a {start.strftime('%A')}; it must be a Monday "
            "(day 0 of a run is a Monday)"
        )


def working_date(day: float, start: dt.date = DEFAULT_START) -> dt.date:
    """The date of working day ``day``: the ``floor(day)``-th weekday after ``start``."""
    weeks, weekday = divmod(math.floor(day), 5)
    return start + dt.timedelta(days=7 * weeks + weekday)


def header(columns: Sequence[str]) -> list[str]:
    """The header line for a workflow with these work columns."""
    stages = [f"{name} (work)" if name.lower() in _RESERVED else name for name in columns]
    return ["ID", "Link", "Name", "Backlog", "Ready", *stages, "Done", "Type", "Class", "Requester"]


def rows(
    items: Sequence[Mapping[str, Any]], columns: Sequence[str], start: dt.date = DEFAULT_START
) -> list[list[str]]:
    """The data rows for a run's item rows (:func:`posim.engine.metrics.item_rows`)."""

    def date(value: Any) -> str:
        return "" if value is None else working_date(float(value), start).isoformat()

    out = []
    for item in items:
        if item.get("state") in ("inbox", "declined") or item.get("declined"):
            continue
        out.append(
            [
                str(item["id"]),
                "",
                str(item.get("title") or ""),
                date(item.get("arrived")),
                date(item.get("committed")),
                *(date(item.get(f"entered_{name}")) for name in columns),
                date(item.get("done")),
                str(item.get("kind") or ""),
                str(item.get("cls") or ""),
                str(item.get("requester") or ""),
            ]
        )
    return out


def write_flow_csv(
    path: str | Path,
    items: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    start: dt.date = DEFAULT_START,
) -> Path:
    """Write ``flow.csv`` for a run's item rows; the path written."""
    target = Path(path)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header(columns))
        writer.writerows(rows(items, columns, start))
    return target


def write_flows(
    folder: Path,
    items_by_strategy: Mapping[str, Sequence[Mapping[str, Any]]],
    columns: Sequence[str],
    start: dt.date = DEFAULT_START,
) -> list[Path]:
    """``flow-<strategy>.csv`` for each strategy of a comparison (replication 0).

    The strategy spec is made safe for a file name as the plots' names are
    (``my_po.py:Cautious+honest`` -> ``my_po.py_Cautious+honest``); two specs
    that come out the same get the second's position as a suffix.
    """
    written = []
    used: set[str] = set()
    for index, (name, items) in enumerate(items_by_strategy.items()):
        slug = re.sub(r"[^A-Za-z0-9_.+-]+", "_", name).strip("._") or "strategy"
        if slug in used:
            slug = f"{slug}-{index}"
        used.add(slug)
        written.append(write_flow_csv(folder / f"flow-{slug}.csv", items, columns, start))
    return written
