"""Metrics of one run, per-item rows and the :class:`Result` of a simulation.

The metric names are part of posim's contract (DESIGN section 6).  A metric
that has no value in a run (no items done, no stakeholders…) is ``None``.
Definitions, all over the horizon ``H``:

``lead_time_*``      arrival -> done, done items
``cycle_time_*``     first start (entering the first work column) -> done
``wip_mean``         sum over started items of (min(done, H) - started) / H
``flow_efficiency``  sum of worked time / sum of cycle time, over done items
``blocked_days``     days items spent blocked (blockers and questions) before H
``cost_of_delay``    per arrived item: cost per day x days from arrival to done
                     (or to the horizon, or to the day it was declined)
``forecast_error_days``  mean |delivered day - forecast day| over every status
                     report whose items were delivered (or whose day passed)
``deadline_hit_rate``    fixed-date items due before H (or done): share done
                     on or before their due day
Percentiles use linear interpolation between order statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from posim.engine import scoring, trust
from posim.engine.books import Books
from posim.engine.items import Item
from posim.engine.records import Record

METRIC_NAMES: tuple[str, ...] = (
    "items_done",
    "throughput_per_day",
    "lead_time_mean",
    "lead_time_p50",
    "lead_time_p85",
    "lead_time_p95",
    "cycle_time_mean",
    "cycle_time_p50",
    "cycle_time_p85",
    "cycle_time_p95",
    "wip_mean",
    "value_delivered",
    "cost_of_delay",
    "net_value",
    "trust_mean",
    "forecast_error_days",
    "deadline_hit_rate",
    "flow_efficiency",
    "blocked_days",
    "score",
)
"""Every metric of a run, in the order tables show them."""

ITEM_FIELDS_BASE: tuple[str, ...] = (
    "id",
    "title",
    "kind",
    "cls",
    "requester",
    "product",
    "state",
    "value",
    "cost_of_delay",
    "due",
    "estimate_total",
    "actual_total",
    "arrived",
    "committed",
    "started",
    "done",
    "declined",
    "lead_time",
    "cycle_time",
    "worked",
    "blocked_blocker",
    "blocked_question",
    "waiting_for_member",
    "defect",
    "value_delivered",
)
"""Fixed keys of an item row; ``entered_<column>`` keys follow, one per column."""


def item_fields(columns: list[str]) -> list[str]:
    """Every key of an item row for a workflow with these columns."""
    return [*ITEM_FIELDS_BASE, *(f"entered_{c}" for c in columns)]


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation percentile (``q`` in 0..100) of sorted values."""
    n = len(sorted_values)
    if n == 1:
        return sorted_values[0]
    position = (n - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, n - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def _spread(prefix: str, values: list[float], out: dict[str, float | None]) -> None:
    if not values:
        for suffix in ("mean", "p50", "p85", "p95"):
            out[f"{prefix}_{suffix}"] = None
        return
    values.sort()
    out[f"{prefix}_mean"] = sum(values) / len(values)
    out[f"{prefix}_p50"] = percentile(values, 50)
    out[f"{prefix}_p85"] = percentile(values, 85)
    out[f"{prefix}_p95"] = percentile(values, 95)


def forecast_errors(
    books: Books, now: float, horizon: float, stakeholders: set[str] | None = None
) -> list[float]:
    """|delivered - forecast| for every report that covered items, where known."""
    horizon = min(now, horizon)
    errors = []
    for promise, delivered in zip(books.promises, books.deliveries(), strict=True):
        if not promise.item_ids:
            continue
        if stakeholders is not None and promise.stakeholder not in stakeholders:
            continue
        if delivered is not None:
            errors.append(abs(delivered - promise.forecast_day))
        elif promise.forecast_day < horizon:
            errors.append(horizon - promise.forecast_day)
    return errors


def compute_metrics(
    books: Books, now: float, horizon: float, product: str | None = None
) -> dict[str, float | None]:
    """The metrics of the run so far (at the horizon: of the whole run).

    The one function for metrics mid-run (a snapshot) and at the end (a
    result).  With ``product``, only that product's items and stakeholders count.
    """
    return metrics_and_score(books, now, horizon, product)[0]


def metrics_and_score(
    books: Books, now: float, horizon: float, product: str | None = None
) -> tuple[dict[str, float | None], scoring.Score]:
    """:func:`compute_metrics` and the score behind its ``score``, in one pass over the items."""
    now = min(now, horizon)
    span = now if now > 0 else horizon
    every = books.items
    items = every if product is None else [i for i in every if i.product == product]
    stakeholders = [
        s for s in books.stakeholders.values() if product is None or s.product == product
    ]
    # One pass over the items.  Every total is summed in the same order, and
    # with sum() where it always was, so the figures stay bit for bit the same.
    leads: list[float] = []
    cycles: list[float] = []
    cycle_spans: list[float] = []
    worked_days: list[float] = []
    wip_area = 0.0
    blocked = 0.0
    value = 0.0
    cost = 0.0
    dated = 0
    hits = 0
    potential = 0.0  # summed in item order, as sum() over them would
    for item in items:
        potential += item.value
        done = item.done
        started = item.started
        if done is not None:  # done <= now, and arrived <= started <= done
            lead = done - item.arrived
            leads.append(lead)
            if started is not None:
                cycle = done - started
                cycles.append(cycle)
                cycle_spans.append(cycle)
                wip_area += cycle
            else:
                cycle_spans.append(done)
            worked_days.append(item.worked)
            delivered = item.value
            if item.due is not None and done > item.due:
                delivered = delivered * (1.0 - item.late_value_loss)
            value += delivered
            cost += item.cost_of_delay * lead
        else:
            if started is not None:
                wip_area += max(0.0, now - started)
            end = item.declined if item.declined is not None else now
            cost += item.cost_of_delay * max(0.0, min(end, now) - item.arrived)
        if item.blocked_time:
            blocked += sum(item.blocked_time.values())
        if item.active_block is not None:
            blocked += max(0.0, now - item.blocked_since)
        due = item.due
        if due is not None and item.state != "declined" and (due <= now or done is not None):
            dated += 1
            if done is not None and done <= due:
                hits += 1
    out: dict[str, float | None] = {"items_done": float(len(leads))}
    out["throughput_per_day"] = len(leads) / span if span > 0 else None
    cycle = sum(cycle_spans)
    worked = sum(worked_days)
    _spread("lead_time", leads, out)
    _spread("cycle_time", cycles, out)
    out["wip_mean"] = wip_area / span if span > 0 else None
    out["value_delivered"] = value
    out["cost_of_delay"] = cost
    out["net_value"] = value - cost
    out["trust_mean"] = trust.influence_weighted_mean((s.influence, s.trust) for s in stakeholders)
    errors = forecast_errors(
        books, now, horizon, None if product is None else {s.name for s in stakeholders}
    )
    out["forecast_error_days"] = sum(errors) / len(errors) if errors else None
    out["deadline_hit_rate"] = hits / dated if dated else None
    out["flow_efficiency"] = worked / cycle if cycle > 0 else None
    out["blocked_days"] = blocked
    score = _score(potential, out, horizon)
    out["score"] = score.total
    return {name: out[name] for name in METRIC_NAMES}, score


def _score(potential: float, metrics: dict[str, float | None], horizon: float) -> scoring.Score:
    return scoring.score(
        value_delivered=metrics["value_delivered"] or 0.0,
        cost_of_delay=metrics["cost_of_delay"] or 0.0,
        potential_value=potential,
        trust_mean=metrics["trust_mean"],
        forecast_error_days=metrics["forecast_error_days"],
        deadline_hit_rate=metrics["deadline_hit_rate"],
        flow_efficiency=metrics["flow_efficiency"],
        horizon_days=horizon,
    )


Cell = str | float | bool | None
"""A value in an item row (ids and counts are ints, which are floats to the type checker)."""
Row = dict[str, Cell]
"""One item's row: :data:`ITEM_FIELDS_BASE` then ``entered_<column>``."""


def item_rows(items: list[Item], activities: list[str]) -> list[Row]:
    """One row per item with every timestamp (the per-item CSV)."""
    rows = []
    for item in items:
        row: Row = {
            "id": item.id,
            "title": item.title,
            "kind": item.kind,
            "cls": item.cls,
            "requester": item.requester,
            "product": item.product,
            "state": item.state,
            "value": item.value,
            "cost_of_delay": item.cost_of_delay,
            "due": item.due,
            "estimate_total": item.estimate_total,
            "actual_total": sum(item.luck.actual),
            "arrived": item.arrived,
            "committed": item.committed,
            "started": item.started,
            "done": item.done,
            "declined": item.declined,
            "lead_time": None if item.done is None else item.done - item.arrived,
            "cycle_time": None
            if item.done is None or item.started is None
            else item.done - item.started,
            "worked": item.worked,
            "blocked_blocker": item.blocked_time.get("blocker", 0.0),
            "blocked_question": item.blocked_time.get("question", 0.0),
            "waiting_for_member": item.waiting_time,
            "defect": item.reworked,
            "value_delivered": item.delivered_value(),
        }
        for index, name in enumerate(activities):
            row[f"entered_{name}"] = item.column_entered.get(index)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Result:
    """The outcome of one simulation run."""

    scenario: str
    """Scenario name."""
    strategy: str
    """Strategy label (``human`` for a played game)."""
    reporting: str
    """Reporting policy."""
    seed: int
    """Root seed of the run."""
    horizon: float
    """Horizon in days."""
    metrics: dict[str, float | None]
    """The metrics, keys in :data:`METRIC_NAMES` order."""
    score: scoring.Score
    """Score and grade, term by term."""
    records: list[Record] = field(repr=False)
    """Every state change (empty when records were not kept)."""
    items: list[dict[str, Any]] = field(repr=False)
    """One row per item, every timestamp (see :func:`item_fields`); empty when
    records were not kept."""
    trust_changes: list[tuple[float, trust.TrustChange]] = field(repr=False)
    """Every trust change with its day."""
    columns: list[str] = field(default_factory=list)
    """The workflow's column names."""
    by_product: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """Metrics per product (scenarios that declare products)."""
