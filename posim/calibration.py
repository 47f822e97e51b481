"""Fit a scenario to a team's stage dates, and backtest it (``posim calibrate``, DESIGN section 9).

What is fitted, from a stage-dates :class:`~posim.history.History`:

* **Clock.** Durations count working days (Monday–Friday, posim's unit; a
  date on a weekend counts as the following Monday) unless ``working_days``
  is false (calendar days).  Day 0 is the first day of the window: the last
  ``history_days`` days ending at the last done date, or from the first
  arrival to the last done date.  The horizon is the window's length.
* **Columns.** The history's work columns (the stages after the commitment
  point, before done).  Each column's **work** is the observed time in that
  column (from entering it to entering the next stage the item reached,
  waiting included), as an empirical distribution (at most
  :data:`EMPIRICAL_POINTS` evenly spaced quantiles); an item that finished
  without the column counts as 0 (skips it), one that passed through on the
  same day as :data:`SAME_DAY` of a day.
* **People and limits.** Each column gets its own people: the most items seen
  in it on one day, or enough that an item almost never waits for one (mean
  WIP + 3 standard deviations of a Poisson + 2), whichever is more, and a WIP
  limit of the same number.  An item in a column is then always being worked,
  so its time there is the observed time, whose waiting is not counted twice.
  Ready's limit is the most items seen in it on one day.
* **Saturation.** When the history ends with more open items (arrived, not
  done) than its columns hold on average and than it started with, by more
  than :data:`SATURATED` of the items done, more arrived than the team could
  take: the first column then gets as many people as its mean WIP (rounded
  up, its work stretched by the same ratio), so that, busy all the time, they
  finish items at the observed pace (Little's law) and the queue forms before
  work starts, outside the cycle time.
* **Arrivals.** Items present on day 0 (arrived before the window, not done
  before it) form the initial backlog; later arrivals come from one
  stakeholder, ``Requests``, at exponential intervals of the observed mean.
* **What dates cannot tell** gets neutral defaults to edit: every item has the
  same value and cost of delay, there is one stakeholder, no slippage (the
  observed times already hold it), no reviews.

The fit assumes the columns' times are independent of each other and of the
load: the fitted scenario reproduces the team as it worked, not how it would
respond to a different load (more people, other limits) — the observed times
hold today's waiting.  :func:`backtest` runs the
fitted scenario and puts the history beside the simulation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from posim.history import History, from_working_index, working_index
from posim.stats import percentile

if TYPE_CHECKING:
    from posim.scenario import Scenario

EMPIRICAL_POINTS = 200
"""Most values in a column's empirical work distribution."""

SAME_DAY = 0.05
"""Work (days) of an item that entered and left a column on the same day."""

SATURATED = 0.10
"""A history that ends with more open items than its columns hold on average (and than
it started with), by more than this share of the items done, is *saturated*: more
arrived than the team could take, and the fit throttles the first column to the
observed pace."""

WARN_AT = 0.15
"""Backtest rows off by more than this relative difference get a warning."""

MIN_DONE = 10
"""Fewest done items a history needs to be calibrated."""


class CalibrationError(ValueError):
    """A history that cannot be calibrated (one line)."""


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """One item's stage days (day numbers from day 0; ``None`` where never reached)."""

    stages: tuple[int | None, ...]
    """Arrival, [queues], work columns, done: as the history's stages."""


@dataclass(frozen=True, slots=True)
class FlowStats:
    """What the backtest compares: throughput, cycle time, WIP per column."""

    throughput_per_day: float
    """Items done per day of the window."""
    cycle_time: dict[int, float | None]
    """Percentile (50, 85, 95) -> cycle time in days (done - work started)."""
    wip: dict[str, float]
    """Column -> mean items in it per day (Ready too, if the history has it)."""
    done: int
    """Items done in the window."""


def _day_number(date: dt.date, working_days: bool) -> int:
    """A date's day number on the chosen clock (weekends count as Monday)."""
    return working_index(date) if working_days else date.toordinal()


def history_records(
    history: History, first: dt.date, working_days: bool
) -> tuple[list[FlowRecord], int]:
    """Every item as stage days from ``first``; and day 0's day number."""
    origin = _day_number(first, working_days)
    records = []
    for item in history.items:
        stages = tuple(
            None if date is None else _day_number(date, working_days) - origin
            for date in item.stages
        )
        records.append(FlowRecord(stages))
    return records, origin


def simulated_records(
    items: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> list[FlowRecord]:
    """A simulated run's item rows as stage days (floored, as ``flow.csv`` writes them)."""

    def day(value: Any) -> int | None:
        return None if value is None else math.floor(float(value))

    records = []
    for item in items:
        if item.get("state") in ("inbox", "declined") or item.get("declined"):
            continue
        stages = (
            day(item.get("arrived")),
            day(item.get("committed")),
            *(day(item.get(f"entered_{name}")) for name in columns),
            day(item.get("done")),
        )
        records.append(FlowRecord(stages))
    return records


def flow_stats(
    records: Sequence[FlowRecord],
    horizon: int,
    first_work: int,
    columns: Mapping[str, int],
) -> FlowStats:
    """Throughput, cycle-time percentiles and mean WIP per column over days ``[0, horizon)``.

    ``first_work`` is the index of the first work stage; ``columns`` maps a
    column's name to its stage index.  An item is in stage ``k`` on day ``d``
    when it entered ``k`` on or before ``d`` and entered no later stage by ``d``.
    """
    done_days = [r.stages[-1] for r in records if r.stages[-1] is not None]
    in_window = [d for d in done_days if 0 <= d < horizon]
    cycles = []
    for record in records:
        done = record.stages[-1]
        if done is None or not 0 <= done < horizon:
            continue
        start = next((d for d in record.stages[first_work:-1] if d is not None), None)
        if start is not None:
            cycles.append(float(done - start))
    cycles.sort()
    wip: dict[str, float] = {}
    for name, index in columns.items():
        wip[name] = sum(_daily_levels(records, index, horizon)) / horizon
    return FlowStats(
        throughput_per_day=len(in_window) / horizon,
        cycle_time={
            level: (percentile(cycles, level) if cycles else None) for level in (50, 85, 95)
        },
        wip=wip,
        done=len(in_window),
    )


@dataclass(frozen=True)
class Fitted:
    """A scenario fitted to a history (:func:`fit`)."""

    scenario: Scenario
    """The validated scenario."""
    yaml: str
    """The commented scenario file."""
    history: History
    """The history it was fitted to."""
    first: dt.date
    """Day 0."""
    horizon: int
    """Days of the window (the scenario's horizon)."""
    working_days: bool
    """Whether days are Monday–Friday only."""
    observed: FlowStats
    """The history's throughput, cycle time and WIP over the window."""
    measured_columns: dict[str, int] = field(default_factory=dict)
    """Columns whose WIP is compared, with their stage index in the history."""


def _window(history: History, history_days: int | None, working_days: bool) -> tuple[dt.date, int]:
    """Day 0 and the horizon."""
    done = history.done_dates()
    if len(done) < MIN_DONE:
        raise CalibrationError(
            f"{history.source}: {len(done)} items done; calibrating needs at least {MIN_DONE}"
        )
    last = _day_number(done[-1], working_days)
    arrivals = [item.stages[0] for item in history.items if item.stages[0] is not None]
    earliest = _day_number(min(arrivals), working_days) if arrivals else last
    if history_days is not None:
        if history_days < 2:
            raise CalibrationError(f"--history must be at least 2 days, got {history_days}")
        earliest = max(earliest, last - history_days + 1)
    horizon = last - earliest + 1
    if horizon < 2:
        raise CalibrationError(f"{history.source}: the history spans one day; nothing to fit")
    if working_days:
        return from_working_index(earliest), horizon
    return dt.date.fromordinal(earliest), horizon


def _quantile_points(values: Sequence[float], points: int = EMPIRICAL_POINTS) -> list[float]:
    """``values`` as at most ``points`` evenly spaced quantiles (all of them when fewer)."""
    ordered = sorted(values)
    if len(ordered) <= points:
        return [round(v, 4) for v in ordered]
    return [round(percentile(ordered, 100 * (k + 0.5) / points) or 0.0, 4) for k in range(points)]


def _scenario_name(history: History) -> str:
    stem = history.source.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"calibrated-{stem or 'team'}"


def fit(history: History, *, history_days: int | None = None, working_days: bool = True) -> Fitted:
    """Fit a scenario to ``history`` (module docstring: what and how).

    Raises:
        CalibrationError: not a stage-dates history, no work column, fewer
            than :data:`MIN_DONE` items done, or a window of one day.
    """
    from posim.scenario import ScenarioError, parse_scenario

    if history.layout != "stages":
        raise CalibrationError(
            f"{history.source}: calibrate needs stage dates (an ID column and a date column "
            "per stage, e.g. posim's flow.csv); this file has only done dates"
        )
    columns = history.work_columns
    first_work = history.first_work_stage
    if not columns or first_work is None:
        raise CalibrationError(
            f"{history.source}: no work column between the commitment point and done "
            f"(stages: {', '.join(history.stages)})"
        )
    first, horizon = _window(history, history_days, working_days)
    records, _ = history_records(history, first, working_days)
    # Only items still open on day 0 take part.
    records = [r for r in records if r.stages[-1] is None or r.stages[-1] >= 0]
    measured = {name: first_work + k for k, name in enumerate(columns)}
    observed = flow_stats(records, horizon, first_work, measured)

    efforts: dict[str, list[float]] = {name: [] for name in columns}
    most: dict[str, int] = {}
    for name, index in measured.items():
        most[name] = _most_at_once(records, index, horizon)
    ready_name = history.stages[history.commitment] if history.commitment else None
    if history.commitment:
        ready_most = _most_at_once(records, history.commitment, horizon)
    for record in records:
        if record.stages[-1] is None and all(d is None for d in record.stages[first_work:-1]):
            continue  # never started: says nothing about the work
        for k, name in enumerate(columns):
            index = first_work + k
            entered = record.stages[index]
            left = next((d for d in record.stages[index + 1 :] if d is not None), None)
            if entered is None:
                if record.stages[-1] is not None:
                    efforts[name].append(0.0)  # finished without this column: skips it
                continue
            if left is None:
                continue  # still in the column: its time is not known yet
            efforts[name].append(SAME_DAY if left == entered else float(left - entered))
    done_count = sum(1 for r in records if r.stages[-1] is not None and r.stages[-1] < horizon)
    initial = sum(1 for r in records if r.stages[0] is not None and r.stages[0] <= 0)
    later = sum(1 for r in records if r.stages[0] is not None and 0 < r.stages[0] < horizon)

    # Open work (arrived, not done) beyond what the columns hold on average piled up:
    # more arrived than the team could take.
    open_at_end = _open(records, horizon - 1)
    growth = open_at_end - max(_open(records, 0), round(sum(observed.wip.values())))
    saturated = growth > SATURATED * max(done_count, 1)
    ready_limit = max(1, ready_most) if ready_name is not None else 1
    workflow = []
    team = []
    effort_spec: dict[str, Any] = {}
    for name in columns:
        observed_times = efforts[name] or [SAME_DAY]
        if all(v == 0 for v in observed_times):
            observed_times = [SAME_DAY]
        seen = max(1, most.get(name, 1))
        people = limit = max(seen, _never_waits(observed.wip.get(name, 0.0)))
        if saturated and name == columns[0]:
            # The throttle: the first column's people, busy all the time, finish items
            # at the observed pace (Little: mean WIP / time in column = throughput);
            # the queue forms before work starts, outside the cycle time.  Whole
            # people: the work is stretched by people / mean WIP to keep the pace.
            mean_wip = max(observed.wip.get(name, 0.0), 1e-9)
            people = limit = max(1, math.ceil(mean_wip))
            stretch = max(1.0, people / mean_wip)
            observed_times = [value * stretch for value in observed_times]
        workflow.append({"name": name, "wip": limit})
        team.append({"name": f"{name} team", "count": people, "skills": {name: 1.0}})
        effort_spec[name] = {"dist": "empirical", "values": _quantile_points(observed_times)}
    document: dict[str, Any] = {
        "posim": 1,
        "name": _scenario_name(history),
        "title": f"Calibrated from {history.source.replace(chr(92), '/').rsplit('/', 1)[-1]}",
        "description": (
            f"Fitted by posim calibrate to {done_count} items done in {horizon} "
            f"{'working' if working_days else 'calendar'} days from {first}."
        ),
        "seed": 1,
        "horizon_days": horizon,
        "cadence": {"mode": "kanban", "replenish_every": 0},
        "workflow": workflow,
        "team": team,
        "templates": {
            "work": {
                "title": "Work item",
                "value": 1000,
                "cost_of_delay": 10,
                "effort": effort_spec,
            }
        },
    }
    if ready_name is not None:
        document["ready_wip"] = ready_limit
    if later:
        document["stakeholders"] = [
            {
                "name": "Requests",
                "influence": 1,
                "trust": 50,
                "requests": {
                    "every": {"dist": "exponential", "mean": round(horizon / later, 4)},
                    "template": "work",
                },
            }
        ]
    if initial:
        document["backlog"] = [{"generate": initial, "template": "work"}]
    text = _commented_yaml(
        document,
        history=history,
        first=first,
        horizon=horizon,
        working_days=working_days,
        done=done_count,
        initial=initial,
        later=later,
        efforts={name: len(values) for name, values in efforts.items()},
        saturated=saturated,
        growth=growth,
    )
    try:
        scenario = parse_scenario(text, f"{document['name']}.yaml")
    except ScenarioError as error:
        # A history bigger than posim simulates (hundreds of people, a request every
        # few minutes): say which limits, not a traceback.
        raise CalibrationError(
            "\n".join(
                [
                    f"{history.source}: the fitted scenario is beyond posim's limits "
                    "(docs/limits.md); calibrate a smaller team's or a shorter window's "
                    "history (--history DAYS):",
                    *(f"  {problem}" for problem in error.problems),
                ]
            )
        ) from None
    return Fitted(scenario, text, history, first, horizon, working_days, observed, measured)


def _open(records: Sequence[FlowRecord], day: int) -> int:
    """Items arrived by ``day`` and not done by then."""
    count = 0
    for record in records:
        arrived, done = record.stages[0], record.stages[-1]
        if arrived is not None and arrived <= day and (done is None or done > day):
            count += 1
    return count


def _never_waits(mean_wip: float) -> int:
    """People enough that an item almost never waits for one: mean + 3 sd of a Poisson + 2."""
    return math.ceil(mean_wip + 3 * math.sqrt(mean_wip) + 2)


def _daily_levels(records: Sequence[FlowRecord], index: int, horizon: int) -> list[int]:
    """How many items are in stage ``index`` on each day of ``[0, horizon)``."""
    change = [0] * (horizon + 1)
    for record in records:
        entered = record.stages[index]
        if entered is None:
            continue
        left = next((d for d in record.stages[index + 1 :] if d is not None), None)
        low = max(0, entered)
        high = horizon if left is None else min(horizon, left)
        if high > low:
            change[low] += 1
            change[high] -= 1
    levels, level = [], 0
    for day in range(horizon):
        level += change[day]
        levels.append(level)
    return levels


def _most_at_once(records: Sequence[FlowRecord], index: int, horizon: int) -> int:
    """The most items in stage ``index`` on any day of ``[0, horizon)``."""
    return max(_daily_levels(records, index, horizon), default=0)


def _commented_yaml(document: dict[str, Any], **facts: Any) -> str:
    """The scenario as YAML, with comments on what was fitted and what was not."""
    import yaml

    history: History = facts["history"]
    unit = "working days (Monday-Friday)" if facts["working_days"] else "calendar days"

    def dump(part: dict[str, Any]) -> str:
        """One top-level key: block style, its innermost collections in flow style."""
        flat = not any(isinstance(value, dict | list) for value in part.values())
        style = False if flat else None
        return str(yaml.safe_dump(part, sort_keys=False, default_flow_style=style, width=100))

    head = [k for k in ("posim", "name", "title", "description", "seed") if k in document]
    lines = [
        "# Scenario fitted by `posim calibrate` from your team's history.",
        f"# Source: {history.source} ({len(history.items)} items, stages: "
        f"{', '.join(history.stages)}).",
        f"# Window: {facts['horizon']} {unit} from {facts['first']}; {facts['done']} items "
        "done in it.",
        "# Fitted from the dates: the columns, each column's work (observed time in the column,",
        "# waiting included), people and WIP limits, and the arrivals.",
        "# Dates cannot tell value, cost of delay or who asked: those are neutral defaults",
        "# below (every item alike). Edit them before comparing prioritisation strategies.",
        *(f"# Note: {note}" for note in history.notes),
        "",
        *(dump({k: document[k]}).rstrip() for k in head),
        "",
        f"# The history's length in {unit}.",
        dump({"horizon_days": document["horizon_days"]}).rstrip(),
        "# Continuous flow: the PO commits whenever Ready has room; no status reviews.",
        dump({"cadence": document["cadence"]}).rstrip(),
    ]
    if "ready_wip" in document:
        lines += [
            "# Ready's limit: the most items seen in it on one day.",
            dump({"ready_wip": document["ready_wip"]}).rstrip(),
        ]
    lines += [
        "",
        "# Work columns, each limited to as many items as it has people (below).",
        *(
            [
                f"# Saturated: {facts['growth']} more items were open at the end than the "
                f"columns hold on average,",
                f"# while {facts['done']} were done. The first column's people are its mean WIP "
                "(its work",
                "# stretched to whole people), so they finish items at the observed pace and the",
                "# queue forms before work starts.",
            ]
            if facts["saturated"]
            else []
        ),
        dump({"workflow": document["workflow"]}).rstrip(),
        "",
        "# One group of people per column: the most items seen in it on one day, or enough",
        "# that an item almost never waits for one, whichever is more. An item in a column",
        "# is then always being worked, so its time there is its work below (the observed",
        "# time already holds the waiting). Not head counts: edit them with the work.",
        dump({"team": document["team"]}).rstrip(),
    ]
    if "stakeholders" in document:
        lines += [
            "",
            f"# Arrivals: {facts['later']} items arrived after day 0, at exponential intervals",
            "# of the observed mean (days). One stakeholder stands for everyone who asks.",
            dump({"stakeholders": document["stakeholders"]}).rstrip(),
        ]
    counts = ", ".join(f"{name}: {n}" for name, n in facts["efforts"].items())
    lines += [
        "",
        "# Work per column: observed days in the column (empirical; 0 = the column was",
        f"# skipped; {SAME_DAY} = entered and left on the same day). Items observed: {counts}.",
        "# value and cost_of_delay are placeholders: dates cannot tell them.",
        dump({"templates": document["templates"]}).rstrip(),
    ]
    if "backlog" in document:
        lines += [
            "",
            f"# Items already waiting or in progress on day 0: {facts['initial']}.",
            dump({"backlog": document["backlog"]}).rstrip(),
        ]
    return "\n".join(lines) + "\n"


def calibrate(
    history: History, *, history_days: int | None = None, working_days: bool = True
) -> Scenario:
    """A scenario that behaves like the team of ``history`` (see :func:`fit`)."""
    return fit(history, history_days=history_days, working_days=working_days).scenario


# --- backtest -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BacktestRow:
    """One measure, history beside simulation."""

    measure: str
    """E.g. ``throughput per day``, ``cycle time p85``, ``WIP development``."""
    history: float | None
    """The history's value."""
    simulation: float | None
    """The mean over the backtest's runs."""

    @property
    def difference(self) -> float | None:
        """(simulation - history) / history; ``None`` when the history's value is 0 or missing."""
        if self.history is None or self.simulation is None or self.history == 0:
            return None
        return (self.simulation - self.history) / self.history

    @property
    def warning(self) -> bool:
        """Off by more than :data:`WARN_AT`."""
        difference = self.difference
        return difference is not None and abs(difference) > WARN_AT


@dataclass(frozen=True, slots=True)
class Backtest:
    """The fitted scenario's runs beside the history."""

    rows: list[BacktestRow]
    """Throughput, cycle time p50/p85/p95, WIP per column."""
    runs: int
    """Replications run (fifo, honest reporting)."""
    seed: int
    """Their root seed."""
    fitted: Fitted
    """What was run."""

    @property
    def warnings(self) -> list[BacktestRow]:
        """Rows off by more than 15 %."""
        return [row for row in self.rows if row.warning]

    def to_json(self) -> dict[str, Any]:
        """The backtest as JSON."""
        return {
            "history": {
                "source": self.fitted.history.source,
                "first": self.fitted.first.isoformat(),
                "days": self.fitted.horizon,
                "working_days": self.fitted.working_days,
                "items_done": self.fitted.observed.done,
            },
            "backtest": {
                "runs": self.runs,
                "seed": self.seed,
                "rows": [
                    {
                        "measure": row.measure,
                        "history": row.history,
                        "simulation": row.simulation,
                        "difference": row.difference,
                        "warning": row.warning,
                    }
                    for row in self.rows
                ],
            },
        }


def _rows(stats: FlowStats) -> dict[str, float | None]:
    out: dict[str, float | None] = {"throughput per day": stats.throughput_per_day}
    for level, value in stats.cycle_time.items():
        out[f"cycle time p{level}"] = value
    for name, value in stats.wip.items():
        out[f"WIP {name}"] = value
    return out


def backtest(fitted: Fitted, *, runs: int = 10, seed: int = 1) -> Backtest:
    """Run the fitted scenario ``runs`` times (fifo) and compare it with the history."""
    from posim.engine import replication_seed, simulate

    scenario = fitted.scenario
    history = fitted.history
    columns = list(history.work_columns)
    first_work = history.first_work_stage
    assert first_work is not None
    # Simulated records: arrival, committed, columns..., done (posim's flow.csv stages).
    sim_columns = {name: 2 + k for k, name in enumerate(columns)}
    totals: dict[str, list[float]] = {}
    for replication in range(runs):
        result = simulate(
            scenario,
            strategy="fifo",
            seed=replication_seed(seed, replication),
            keep_records=True,
        )
        records = simulated_records(result.items, scenario.activities)
        stats = flow_stats(records, fitted.horizon, 2, sim_columns)
        for measure, value in _rows(stats).items():
            if value is not None:
                totals.setdefault(measure, []).append(value)
    observed = _rows(fitted.observed)
    rows = [
        BacktestRow(
            measure,
            value,
            sum(totals[measure]) / len(totals[measure]) if totals.get(measure) else None,
        )
        for measure, value in observed.items()
    ]
    return Backtest(rows, runs, seed, fitted)


def format_backtest(result: Backtest) -> str:
    """The backtest table: history beside simulation, relative difference, warnings."""
    fitted = result.fitted
    unit = "working days" if fitted.working_days else "calendar days"
    lines = [
        f"Backtest: {result.runs} runs of the fitted scenario (fifo, seed {result.seed}) beside "
        f"the history, {fitted.horizon} {unit} from {fitted.first} ({fitted.observed.done} "
        "items done).",
        "",
        f"  {'measure':<28}{'history':>10}{'simulation':>12}{'difference':>12}",
    ]

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for row in result.rows:
        difference = "-" if row.difference is None else f"{row.difference:+.0%}"
        flag = "  <- off by more than 15 %" if row.warning else ""
        lines.append(
            f"  {row.measure:<28}{shown(row.history):>10}{shown(row.simulation):>12}"
            f"{difference:>12}{flag}"
        )
    lines.append("")
    if result.warnings:
        lines.append(
            f"{len(result.warnings)} measure{'s are' if len(result.warnings) != 1 else ' is'} "
            "off by more than 15 %: the fitted scenario "
            "does not behave like the history there (see docs/forecasting.md for why a fit "
            "can miss, and edit the scenario)."
        )
    else:
        lines.append("Every measure is within 15 % of the history.")
    lines.append(f"Cycle time: done date minus the date work started, in {unit} (no +1).")
    return "\n".join(lines)
