"""What compare, sweep and the oracle share: limits, errors, work units, strategy checks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim.engine import simulate
from posim.engine.strategies import StrategyError, StrategySpec, parse_spec, resolve_ordering
from posim.runs import MAX_RUNS

if TYPE_CHECKING:
    from posim.scenario import Scenario

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
