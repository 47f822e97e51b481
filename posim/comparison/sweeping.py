"""``sweep``: one strategy over the values of one scenario parameter, on common random numbers."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from posim import stats
from posim.comparison.common import (
    CONFIDENCE,
    MAX_SWEEP_VALUES,
    CompareError,
    _check_runs,
    _collect,
    _simulate_unit,
    _Unit,
    _worker_ordering,
    check_strategies,
)
from posim.engine import METRIC_NAMES, replication_seed
from posim.engine.strategies import StrategySpec
from posim.executors import DEFAULT_EXECUTOR, run_ordered

if TYPE_CHECKING:
    from posim.scenario import Scenario


@dataclass(frozen=True)
class Setting:
    """A ``--set PATH=VALUES`` option: a scenario field and the values to try."""

    path: str
    """Dotted path; list entries by name (``workflow.development.wip``) or index."""
    values: list[Any]
    """The values, in the order given."""


_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?::\s*(\d+)\s*)?$")


def _scalar(text: str) -> Any:
    """A value from the command line: a whole number, a number, none/null, true/false or text."""
    cleaned = text.strip()
    lowered = cleaned.lower()
    if lowered in ("none", "null", "unlimited"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        number = float(cleaned)
    except ValueError:
        return cleaned
    if not math.isfinite(number):
        raise CompareError(f"--set: {text!r} is not a finite number")
    return number


def parse_setting(text: str) -> Setting:
    """Parse ``PATH=VALUES``: ``a..b`` (whole numbers, ``a..b:step``) or a comma list.

    ``workflow.development.wip=1..10``, ``team.Dev.count=1,2,3``,
    ``stakeholders.Sales.requests.every.mean=2,4,8``, ``ready_wip=none,2,4``
    (``none`` = no limit).

    Raises:
        CompareError: no ``=``, an empty path or value list, a backwards
            range, repeated values, or more than :data:`MAX_SWEEP_VALUES` values.
    """
    path, equals, spec = text.partition("=")
    path = path.strip()
    if not equals or not path or not spec.strip():
        raise CompareError(
            f"--set {text!r}: expected PATH=VALUES, e.g. workflow.development.wip=1..10"
        )
    match = _RANGE.match(spec)
    if match:
        low, high = int(match[1]), int(match[2])
        step = int(match[3] or 1)
        if step < 1 or high < low:
            raise CompareError(f"--set {text!r}: a range goes up, e.g. 1..10 or 2..20:2")
        if (high - low) // step + 1 > MAX_SWEEP_VALUES:
            raise CompareError(f"--set {text!r}: at most {MAX_SWEEP_VALUES} values")
        values: list[Any] = list(range(low, high + 1, step))
    else:
        parts = spec.split(",")
        if any(not part.strip() for part in parts):
            raise CompareError(f"--set {text!r}: empty value in the list")
        values = [_scalar(part) for part in parts]
    if len(values) > MAX_SWEEP_VALUES:
        raise CompareError(f"--set {text!r}: at most {MAX_SWEEP_VALUES} values")
    keys = [json.dumps(value) for value in values]
    if len(set(keys)) != len(keys):
        raise CompareError(f"--set {text!r}: a value is given twice")
    return Setting(path, values)


def scenario_with(scenario: Scenario, path: str, value: Any) -> Scenario:
    """``scenario`` with the field at ``path`` set to ``value``, validated again.

    List entries are addressed by their ``name`` (columns, members,
    stakeholders), their ``title`` (backlog items) or their index.  The
    changed scenario goes through the same validation as a scenario file
    (:func:`posim.scenario_edits.edited`, the one way posim edits scenarios).

    Raises:
        CompareError: a path that does not exist, or a value the scenario
            models reject (one line per problem).
    """
    from posim.scenario import ScenarioError
    from posim.scenario_edits import EditError, edited

    try:
        return edited(scenario, {path: value}, "sweep.json")
    except EditError as error:
        raise CompareError(f"--set {error}") from None
    except ScenarioError as error:
        raise CompareError(
            "\n".join(
                f"--set {path}={json.dumps(value)}: {problem.path or 'scenario'}: {problem.message}"
                for problem in error.problems
            )
        ) from None


@dataclass(frozen=True)
class Sweep:
    """One strategy over the values of one parameter, on the same replications."""

    scenario: str
    """Scenario name."""
    parameter: str
    """The dotted path swept."""
    parameter_values: list[Any]
    """The values tried, in order."""
    strategy: str
    """The strategy spec as given."""
    spec: StrategySpec
    """Its parsed ordering and reporting policy."""
    seed: int
    """Root seed."""
    runs_requested: int
    """Replications asked for per value."""
    seeds: list[int]
    """Seeds of the replications finished for every value."""
    values: list[dict[str, list[float | None]]]
    """Per parameter value (same order): each metric in every finished replication."""
    summary: list[dict[str, dict[str, Any]]]
    """Per parameter value (same order): :func:`posim.stats.summary` per metric."""
    partial: bool = False
    """True when interrupted; only the first ``runs`` replications finished."""

    @property
    def runs(self) -> int:
        """Replications finished for every value."""
        return len(self.seeds)

    def paired(self) -> list[dict[str, dict[str, Any]] | None]:
        """Per value, each metric minus its value at the first parameter value.

        Paired by replication (every value ran on the same seeds), with the
        Bonferroni adjustment for the ``len(values) - 1`` comparisons; ``None``
        for the first value itself.
        """
        comparisons = max(1, len(self.values) - 1)
        first = self.values[0]
        return [None] + [
            {
                metric: stats.paired_difference(
                    first[metric], per_value[metric], CONFIDENCE, comparisons
                )
                for metric in METRIC_NAMES
            }
            for per_value in self.values[1:]
        ]

    def to_json(self, version: str) -> dict[str, Any]:
        """The ``posim sweep --json`` document.

        ``sweep`` holds one entry per value: ``value``, ``summary`` (per
        metric) and ``paired`` (per metric, the paired difference from the
        first value; ``null`` for the first).
        """
        document: dict[str, Any] = {
            "posim": version,
            "scenario": self.scenario,
            "parameter": self.parameter,
            "values": self.parameter_values,
            "strategy": self.strategy,
            "reporting": self.spec.reporting,
            "runs": self.runs,
            "seed": self.seed,
            "sweep": [
                {"value": value, "summary": summary, "paired": paired}
                for value, summary, paired in zip(
                    self.parameter_values, self.summary, self.paired(), strict=True
                )
            ],
            "partial": self.partial,
        }
        if self.partial:
            document["runs_requested"] = self.runs_requested
        return document


def sweep(
    scenario: Scenario,
    setting: Setting | str,
    strategy: str = "fifo",
    runs: int = 100,
    seed: int | None = None,
    jobs: int = 0,
    *,
    executor: str = DEFAULT_EXECUTOR,
    scheduler: str | None = None,
    reporting: str = "honest",
    progress: Callable[[int], None] | None = None,
    interruptible: bool = False,
) -> Sweep:
    """Run ``strategy`` on ``scenario`` once per value of one parameter.

    ``setting`` is a :class:`Setting` or its ``PATH=VALUES`` text.  Every
    value is applied with :func:`scenario_with` (and so validated) before
    anything runs; replication ``r`` uses the same seed for every value.

    Raises:
        CompareError: a bad setting, path or value, strategy or ``runs``.
    """
    parsed = parse_setting(setting) if isinstance(setting, str) else setting
    spec = check_strategies([strategy], reporting)[strategy]
    _check_runs(runs)
    problems: list[str] = []
    variants: list[Scenario] = []
    for value in parsed.values:
        try:
            variants.append(scenario_with(scenario, parsed.path, value))
        except CompareError as error:
            problems.append(str(error))
    if problems:
        raise CompareError("\n".join(dict.fromkeys(problems)))
    root = scenario.seed if seed is None else seed
    seeds = [replication_seed(root, r) for r in range(runs)]
    ordering = _worker_ordering(spec.ordering)
    units = [
        _Unit(variant, ordering, spec.reporting, seeds[r], False)
        for r in range(runs)
        for variant in variants
    ]
    outcomes = run_ordered(
        _simulate_unit, units, executor=executor, jobs=jobs, scheduler=scheduler, progress=progress
    )
    collected, partial = _collect(outcomes, interruptible)
    finished = len(collected) // len(variants)
    values = [{metric: [] for metric in METRIC_NAMES} for _ in variants]  # type: list[dict[str, list[float | None]]]
    for index, (metrics, _) in enumerate(collected[: finished * len(variants)]):
        for metric in METRIC_NAMES:
            values[index % len(variants)][metric].append(metrics.get(metric))
    summary = [
        {metric: stats.summary(per_value[metric]) for metric in METRIC_NAMES}
        for per_value in values
    ]
    return Sweep(
        scenario=scenario.name,
        parameter=parsed.path,
        parameter_values=list(parsed.values),
        strategy=strategy,
        spec=spec,
        seed=root,
        runs_requested=runs,
        seeds=seeds[:finished],
        values=values,
        summary=summary,
        partial=partial,
    )
