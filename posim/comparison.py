"""Compare strategies, sweep a parameter, and find the best order of a small backlog.

The analyst's toolbox behind ``posim compare`` and ``posim sweep``:

* :func:`compare` runs every strategy on the same replication seeds (common
  random numbers: replication ``r`` of every strategy gets the same luck) and
  summarises each metric per strategy (mean, Student-t 95 % CI, percentiles)
  and per strategy against the baseline, the first one given: the paired-t
  interval of ``strategy - baseline`` over replications.  With more than one
  comparison (more than two strategies) every interval is Bonferroni-adjusted
  so that, for one metric, all of them hold together with 95 % confidence
  (Law & Kelton, *Simulation Modeling and Analysis*, §10.3).
* :func:`sweep` runs one strategy over the values of one scenario parameter
  (``workflow.development.wip=1..10``), each value re-validated through the
  scenario models, again on common random numbers.
* :func:`find_best_order` (``posim compare --oracle``) searches every order
  of a small backlog (at most :data:`MAX_ORACLE_ITEMS` items, all known at
  day 0, no requests) exhaustively, each order run through the engine on the
  same replications, and reports each strategy's regret against the best.

Work is spread by :func:`posim.executors.run_ordered`; results come back keyed
by replication and are reduced in replication order, so the output is the
same, to the byte, for every executor and job count.

The module is ``posim.comparison`` (not ``posim.compare``) so that importing
it never rebinds the package attribute ``posim.compare``, the function.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim import stats
from posim.engine import METRIC_NAMES, replication_seed, simulate
from posim.engine.strategies import StrategyError, StrategySpec, parse_spec, resolve_ordering
from posim.executors import DEFAULT_EXECUTOR, run_ordered
from posim.runs import MAX_RUNS, dumps_json

if TYPE_CHECKING:
    from posim.engine.items import ItemView
    from posim.scenario import Scenario

__all__ = [
    "MAX_ORACLE_ITEMS",
    "MAX_ORACLE_SIMULATIONS",
    "CompareError",
    "Comparison",
    "FixedOrder",
    "Setting",
    "Sweep",
    "add_regret",
    "check_oracle",
    "check_strategies",
    "compare",
    "find_best_order",
    "parse_setting",
    "scenario_with",
    "sweep",
    "write_comparison",
    "write_sweep",
]

CONFIDENCE = 0.95
"""Family confidence of the paired intervals (per metric)."""

MAX_ORACLE_ITEMS = 8
"""Most items the exhaustive oracle accepts (8! = 40,320 orders)."""

MAX_ORACLE_SIMULATIONS = 200_000
"""Most engine runs (orders x replications) the oracle may spend."""

MAX_SWEEP_VALUES = 200
"""Most values one sweep may try."""

ORACLE_METRICS = ("net_value", "cost_of_delay")
"""The oracle's objectives: net value (higher is better) and cost of delay (lower is better)."""

Metrics = dict[str, float | None]
"""One run's metrics, keyed by :data:`posim.engine.METRIC_NAMES`."""


class CompareError(ValueError):
    """Bad input to a comparison, sweep or oracle (one line per problem)."""


# --------------------------------------------------------------------------
# Work units (run in worker processes: module-level, picklable)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One replication of one scenario under one strategy."""

    scenario: Scenario
    ordering: str
    reporting: str
    seed: int
    keep_items: bool


def _simulate_unit(unit: _Unit) -> tuple[Metrics, list[dict[str, Any]] | None]:
    """Run one replication: its metrics, and its item rows when asked for."""
    result = simulate(
        unit.scenario,
        strategy=unit.ordering,
        reporting=unit.reporting,
        seed=unit.seed,
        keep_records=unit.keep_items,
    )
    return dict(result.metrics), (list(result.items) if unit.keep_items else None)


def _worker_ordering(ordering: str) -> str:
    """The ordering as workers should load it: a strategy file's path made absolute."""
    target, colon, class_name = ordering.rpartition(":")
    if colon and (target.endswith(".py") or "/" in target or "\\" in target):
        return f"{Path(target).resolve()}:{class_name}"
    return ordering


def check_strategies(
    strategies: Sequence[str], reporting: str = "honest"
) -> dict[str, StrategySpec]:
    """Parse and load every strategy spec before anything runs.

    A user strategy (``file.py:Class``) is imported here, so a missing file,
    class or method is reported at once, not inside a worker.

    Raises:
        CompareError: no strategy, a spec given twice, or a spec that cannot
            be resolved (the :class:`~posim.engine.strategies.StrategyError` message).
    """
    if not strategies:
        raise CompareError("give at least one --strategy")
    specs: dict[str, StrategySpec] = {}
    for given in strategies:
        if given in specs:
            raise CompareError(f"strategy {given!r} is given twice")
        try:
            spec = parse_spec(given, reporting)
            resolve_ordering(spec.ordering)
        except StrategyError as error:
            raise CompareError(str(error)) from None
        specs[given] = spec
    return specs


def _check_runs(runs: int) -> None:
    if not 1 <= runs <= MAX_RUNS:
        raise CompareError(f"--runs must be between 1 and {MAX_RUNS}, got {runs}")


def _collect(outcomes: Iterator[Any], interruptible: bool) -> tuple[list[Any], bool]:
    """Every outcome in order; on Ctrl+C (when ``interruptible``) the ones finished so far."""
    collected: list[Any] = []
    try:
        for outcome in outcomes:
            collected.append(outcome)
    except KeyboardInterrupt:
        if not interruptible:
            raise
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()
        return collected, True
    return collected, False


# --------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# oracle: the best order of a small backlog, by exhaustive search
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedOrder:
    """An ordering that follows a given order of item ids (the oracle's candidate)."""

    order: tuple[int, ...]
    """Item ids, first to last."""

    @property
    def name(self) -> str:
        """``order:3,1,2``."""
        return "order:" + ",".join(map(str, self.order))

    def priority(self, item: ItemView, now: float) -> tuple[int, int]:
        """Position of the item in the order (unknown items last, by id)."""
        try:
            return (self.order.index(item.id), item.id)
        except ValueError:
            return (len(self.order), item.id)


def _oracle_items(scenario: Scenario) -> int:
    """Number of items known at day 0, or a :class:`CompareError` why the oracle cannot run."""
    problems = [
        f"stakeholder {holder.name!r} sends requests"
        for holder in scenario.stakeholders
        if holder.requests is not None
    ]
    if problems:
        raise CompareError(
            "--oracle needs every item known at day 0 and no requests: " + "; ".join(problems)
        )
    count = sum(getattr(entry, "generate", 1) for entry in scenario.backlog)
    if count == 0:
        raise CompareError("--oracle needs a backlog: the scenario has no items")
    if count > MAX_ORACLE_ITEMS:
        raise CompareError(
            f"--oracle searches every order exhaustively, so it takes at most "
            f"{MAX_ORACLE_ITEMS} items; this scenario has {count} "
            f"({math.factorial(count):,} orders)"
        )
    return count


def check_oracle(scenario: Scenario, runs: int) -> int:
    """Check that the oracle can run on ``scenario`` with ``runs``; the number of orders.

    Raises:
        CompareError: requests, no items, more than :data:`MAX_ORACLE_ITEMS`
            items, or more than :data:`MAX_ORACLE_SIMULATIONS` engine runs.
    """
    count = _oracle_items(scenario)
    orders = math.factorial(count)
    if orders * runs > MAX_ORACLE_SIMULATIONS:
        most = max(1, MAX_ORACLE_SIMULATIONS // orders)
        raise CompareError(
            f"--oracle with {count} items tries {orders:,} orders per replication; "
            f"{runs} replications would take {orders * runs:,} engine runs "
            f"(at most {MAX_ORACLE_SIMULATIONS:,}): use --runs {most} or fewer"
        )
    return orders


@dataclass(frozen=True)
class _OrderUnit:
    """One candidate order, run on every replication seed."""

    scenario: Scenario
    order: tuple[int, ...]
    reporting: str
    seeds: tuple[int, ...]


def _simulate_order(unit: _OrderUnit) -> list[tuple[float | None, float | None]]:
    """``(net_value, cost_of_delay)`` of one order in every replication."""
    ordering = FixedOrder(unit.order)
    outcome = []
    for seed in unit.seeds:
        metrics = simulate(
            unit.scenario,
            strategy=ordering,
            reporting=unit.reporting,
            seed=seed,
            keep_records=False,
        ).metrics
        outcome.append((metrics["net_value"], metrics["cost_of_delay"]))
    return outcome


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def find_best_order(
    scenario: Scenario,
    runs: int = 1,
    seed: int | None = None,
    *,
    reporting: str = "honest",
    jobs: int = 0,
    executor: str = DEFAULT_EXECUTOR,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The best order of a small backlog, by trying every order on the same replications.

    Every permutation of the backlog's item ids is run through the engine
    with a :class:`FixedOrder` strategy (the order decides both what is
    committed and what is pulled first) on replications ``0 .. runs-1``.
    For each objective in :data:`ORACLE_METRICS` it reports:

    * ``best_order`` — the one order with the best mean over the
      replications (the best plan a PO could commit to before seeing the
      luck; ties go to the first order in lexicographic order), with
      ``best_mean``;
    * ``hindsight_mean`` — the mean over replications of the best order *for
      that replication* (a clairvoyant PO who knows the luck): a bound no
      strategy can beat.

    Every strategy whose keys are fixed when an item arrives (all built-in
    ones) is one of these orders, so its mean is never better than
    ``best_mean``.

    Raises:
        CompareError: the instance is too large or has requests (see :func:`check_oracle`).
    """
    orders_count = check_oracle(scenario, runs)
    root = scenario.seed if seed is None else seed
    seeds = tuple(replication_seed(root, r) for r in range(runs))
    probe = simulate(scenario, strategy="fifo", reporting=reporting, seed=seeds[0])
    titles = {int(row["id"]): str(row.get("title", "")) for row in probe.items}
    ids = sorted(titles)
    units = [_OrderUnit(scenario, order, reporting, seeds) for order in itertools.permutations(ids)]
    best_net: tuple[float, int] | None = None  # (mean, order index)
    best_cost: tuple[float, int] | None = None
    hindsight_net = [-math.inf] * runs
    hindsight_cost = [math.inf] * runs
    for index, outcome in enumerate(
        run_ordered(
            _simulate_order,
            units,
            executor=executor,
            jobs=jobs,
            scheduler=scheduler,
            progress=progress,
        )
    ):
        nets = [0.0 if net is None else float(net) for net, _ in outcome]
        costs = [0.0 if cost is None else float(cost) for _, cost in outcome]
        net_mean, cost_mean = _mean(nets), _mean(costs)
        if best_net is None or net_mean > best_net[0]:
            best_net = (net_mean, index)
        if best_cost is None or cost_mean < best_cost[0]:
            best_cost = (cost_mean, index)
        hindsight_net = [max(old, new) for old, new in zip(hindsight_net, nets, strict=True)]
        hindsight_cost = [min(old, new) for old, new in zip(hindsight_cost, costs, strict=True)]
    assert best_net is not None and best_cost is not None

    def describe(best: tuple[float, int], hindsight: list[float]) -> dict[str, Any]:
        order = units[best[1]].order
        return {
            "best_order": list(order),
            "best_titles": [titles[item] for item in order],
            "best_mean": best[0],
            "hindsight_mean": _mean(hindsight),
        }

    return {
        "items": len(ids),
        "orders": orders_count,
        "runs": runs,
        "net_value": describe(best_net, hindsight_net),
        "cost_of_delay": describe(best_cost, hindsight_cost),
    }


def add_regret(result: Comparison, best: dict[str, Any]) -> Comparison:
    """The comparison with its ``oracle``: the best order and every strategy's regret.

    Regret is how much worse than the best order a strategy's mean is (net
    value: best − strategy; cost of delay: strategy − best), and the same
    against the clairvoyant per-replication best (``regret_hindsight``).
    """
    oracle = dict(best)
    for metric, sign in (("net_value", 1.0), ("cost_of_delay", -1.0)):
        entry = dict(oracle[metric])
        regret = {}
        for name in result.strategies:
            mean = result.summary[name][metric]["mean"]
            if mean is None:
                regret[name] = {"regret": None, "regret_hindsight": None}
                continue
            regret[name] = {
                "regret": sign * (entry["best_mean"] - mean),
                "regret_hindsight": sign * (entry["hindsight_mean"] - mean),
            }
        entry["regret"] = regret
        oracle[metric] = entry
    return Comparison(**{**result.__dict__, "oracle": oracle})


# --------------------------------------------------------------------------
# sweep: one parameter, many values
# --------------------------------------------------------------------------


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


def _step(container: Any, segment: str, where: str, path: str) -> Any:
    """The key or index addressed by ``segment`` inside ``container``."""
    if isinstance(container, dict):
        if segment in container:
            return segment
        known = ", ".join(sorted(map(str, container))) or "none"
        raise CompareError(
            f"--set {path}: {where or 'the scenario'} has no field {segment!r}; known: {known}"
        )
    if isinstance(container, list):
        for index, entry in enumerate(container):
            if isinstance(entry, dict) and segment in (entry.get("name"), entry.get("title")):
                return index
        if segment.isdigit() and int(segment) < len(container):
            return int(segment)
        names = [
            str(entry.get("name") or entry.get("title"))
            for entry in container
            if isinstance(entry, dict) and (entry.get("name") or entry.get("title"))
        ]
        known = ", ".join(names) if names else f"indexes 0..{len(container) - 1}"
        raise CompareError(f"--set {path}: {where} has no entry {segment!r}; known: {known}")
    raise CompareError(
        f"--set {path}: {where} is {json.dumps(container)}, not a mapping or a list; "
        f"set {where} itself"
    )


_OPEN_MAPPINGS = frozenset({"skills", "effort", "speed"})
"""Mappings whose keys are names of the scenario's choosing (activities), so a new key is fine."""


def scenario_with(scenario: Scenario, path: str, value: Any) -> Scenario:
    """``scenario`` with the field at ``path`` set to ``value``, validated again.

    List entries are addressed by their ``name`` (columns, members,
    stakeholders), their ``title`` (backlog items) or their index.  The
    changed scenario goes through the same validation as a scenario file.

    Raises:
        CompareError: a path that does not exist, or a value the scenario
            models reject (one line per problem).
    """
    from posim.scenario import ScenarioError, parse_scenario

    data = scenario.model_dump(mode="json", by_alias=True)
    segments = path.split(".")
    container: Any = data
    walked: list[str] = []
    for segment in segments[:-1]:
        key = _step(container, segment, ".".join(walked), path)
        container = container[key]
        walked.append(segment)
    last = segments[-1]
    if isinstance(container, dict) and walked and walked[-1] in _OPEN_MAPPINGS:
        container[last] = value  # e.g. a new skill: the models check the name
    else:
        container[_step(container, last, ".".join(walked), path)] = value
    try:
        return parse_scenario(json.dumps(data), "sweep.json")
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


# --------------------------------------------------------------------------
# Files: CSV, JSON and plots
# --------------------------------------------------------------------------

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
) -> list[Path]:
    """Write ``runs.csv``, ``compare.json`` and the plots into ``out``; the files written.

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
