"""``compare``: every strategy on common random numbers, summaries and paired differences."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from posim import stats
from posim.comparison.common import (
    CONFIDENCE,
    _check_runs,
    _collect,
    _simulate_unit,
    _Unit,
    _worker_ordering,
    check_strategies,
)
from posim.comparison.oracle import add_regret, check_oracle, find_best_order
from posim.engine import METRIC_NAMES, replication_seed
from posim.engine.strategies import StrategySpec
from posim.executors import DEFAULT_EXECUTOR, run_ordered

if TYPE_CHECKING:
    from posim.scenario import Scenario


@dataclass(frozen=True)
class Comparison:
    """Every strategy on the same replications: summaries and paired differences."""

    scenario: str
    """Scenario name."""
    seed: int
    """Root seed; replication ``r`` ran with ``replication_seed(seed, r)``."""
    runs_requested: int
    """Replications asked for."""
    seeds: list[int]
    """The seed of each finished replication, in order (its length is the number of runs)."""
    specs: dict[str, StrategySpec]
    """Each strategy as given (the key) and its parsed ordering and reporting policy."""
    values: dict[str, dict[str, list[float | None]]]
    """``values[strategy][metric]``: the metric in every finished replication, in order."""
    summary: dict[str, dict[str, dict[str, Any]]]
    """``summary[strategy][metric]``: :func:`posim.stats.summary` of its values."""
    paired: dict[str, dict[str, dict[str, Any]]]
    """``paired[strategy][metric]``: :func:`posim.stats.paired_difference` against the baseline."""
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Item rows of replication 0 per strategy (only when asked for, e.g. for plots)."""
    partial: bool = False
    """True when the run was interrupted: only the first ``runs`` replications finished."""
    oracle: dict[str, Any] | None = None
    """The exhaustive best order and each strategy's regret (:func:`find_best_order`)."""

    @property
    def strategies(self) -> list[str]:
        """The strategies as given, baseline first."""
        return list(self.specs)

    @property
    def baseline(self) -> str:
        """The first strategy; every other one is compared against it."""
        return next(iter(self.specs))

    @property
    def runs(self) -> int:
        """Replications finished for every strategy."""
        return len(self.seeds)

    @property
    def comparisons(self) -> int:
        """Paired comparisons per metric (strategies minus one)."""
        return max(0, len(self.specs) - 1)

    @property
    def adjustment(self) -> str:
        """``"bonferroni"`` with more than one comparison, else ``"none"``."""
        return "bonferroni" if self.comparisons > 1 else "none"

    def to_json(self, version: str) -> dict[str, Any]:
        """The ``posim compare --json`` document (DESIGN section 6, plus a few extra keys)."""
        document: dict[str, Any] = {
            "posim": version,
            "scenario": self.scenario,
            "runs": self.runs,
            "baseline": self.baseline,
            "strategies": {
                name: {
                    "ordering": spec.ordering,
                    "reporting": spec.reporting,
                    "summary": self.summary[name],
                }
                for name, spec in self.specs.items()
            },
            "paired": self.paired,
            "seed": self.seed,
            "confidence": CONFIDENCE,
            "comparisons": self.comparisons,
            "adjustment": self.adjustment,
            "partial": self.partial,
        }
        if self.partial:
            document["runs_requested"] = self.runs_requested
        if self.oracle is not None:
            document["oracle"] = self.oracle
        return document


def _paired_table(
    values: Mapping[str, Mapping[str, list[float | None]]], baseline: str
) -> dict[str, dict[str, dict[str, Any]]]:
    comparisons = max(1, len(values) - 1)
    return {
        name: {
            metric: stats.paired_difference(
                values[baseline][metric],
                per_metric[metric],
                confidence=CONFIDENCE,
                comparisons=comparisons,
            )
            for metric in METRIC_NAMES
        }
        for name, per_metric in values.items()
        if name != baseline
    }


def compare(
    scenario: Scenario,
    strategies: Sequence[str],
    runs: int = 100,
    seed: int | None = None,
    jobs: int = 0,
    *,
    executor: str = DEFAULT_EXECUTOR,
    scheduler: str | None = None,
    reporting: str = "honest",
    keep_items: bool = False,
    oracle: bool = False,
    progress: Callable[[int], None] | None = None,
    interruptible: bool = False,
) -> Comparison:
    """Run every strategy on the same ``runs`` replications and compare them.

    Args:
        scenario: the validated scenario.
        strategies: ``ORDERING[+REPORTING]`` specs (``fifo``, ``wsjf+green``,
            ``my_po.py:Cautious``); the first is the baseline.  Results are
            keyed by the spec exactly as given.
        runs: replications per strategy.
        seed: root seed (default: the scenario's).
        jobs: worker processes (``0`` = every core).
        executor: ``serial``, ``process`` (default) or ``dask``.
        scheduler: a Dask scheduler address for ``executor="dask"``.
        reporting: the reporting policy of specs that name none.
        keep_items: keep the item rows of replication 0 of each strategy
            (what the flow plots need); nothing else is kept.
        oracle: also search the best order exhaustively (:func:`find_best_order`).
        progress: called with the number of simulations just finished.
        interruptible: on Ctrl+C return the replications finished by every
            strategy so far, marked ``partial``, instead of raising.

    Raises:
        CompareError: bad strategies, runs, or an instance too large for the oracle.
        posim.executors.ExecutorError: bad executor options.
    """
    specs = check_strategies(strategies, reporting)
    _check_runs(runs)
    if oracle:
        check_oracle(scenario, runs)
    root = scenario.seed if seed is None else seed
    seeds = [replication_seed(root, r) for r in range(runs)]
    names = list(specs)
    units = [
        _Unit(
            scenario,
            _worker_ordering(specs[name].ordering),
            specs[name].reporting,
            seeds[r],
            keep_items and r == 0,
        )
        for r in range(runs)
        for name in names
    ]
    outcomes = run_ordered(
        _simulate_unit, units, executor=executor, jobs=jobs, scheduler=scheduler, progress=progress
    )
    collected, partial = _collect(outcomes, interruptible)
    finished = len(collected) // len(names)  # replications every strategy finished

    values: dict[str, dict[str, list[float | None]]] = {
        name: {metric: [] for metric in METRIC_NAMES} for name in names
    }
    items: dict[str, list[dict[str, Any]]] = {}
    for index, (metrics, item_rows) in enumerate(collected[: finished * len(names)]):
        name = names[index % len(names)]
        for metric in METRIC_NAMES:
            values[name][metric].append(metrics.get(metric))
        if item_rows is not None:
            items[name] = item_rows
    summary = {
        name: {metric: stats.summary(values[name][metric]) for metric in METRIC_NAMES}
        for name in names
    }
    result = Comparison(
        scenario=scenario.name,
        seed=root,
        runs_requested=runs,
        seeds=seeds[:finished],
        specs=specs,
        values=values,
        summary=summary,
        paired=_paired_table(values, names[0]),
        items=items,
        partial=partial,
    )
    if oracle and not partial and finished:
        best = find_best_order(
            scenario,
            runs=runs,
            seed=root,
            reporting=reporting,
            jobs=jobs,
            executor=executor,
            scheduler=scheduler,
        )
        result = add_regret(result, best)
    return result
