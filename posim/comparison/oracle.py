"""The oracle (``posim compare --oracle``): the best order of a small backlog, by exhaustive search."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from posim.comparison.common import (
    MAX_ORACLE_ITEMS,
    MAX_ORACLE_SIMULATIONS,
    CompareError,
)
from posim.engine import replication_seed, simulate
from posim.executors import DEFAULT_EXECUTOR, run_ordered

if TYPE_CHECKING:
    from posim.comparison.comparing import Comparison
    from posim.engine.items import ItemView
    from posim.scenario import Scenario


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
    return replace(result, oracle=oracle)
