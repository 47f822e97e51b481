"""The lessons of DESIGN section 1, measured: paired seeds and a 95 % confidence interval.

Each test runs two product owners on the same replications (common random
numbers: replication ``r`` uses the same seed for both, so both face the same
items, slippage and requests) and computes the paired-t 95 % confidence
interval of the per-replication difference with
:func:`posim.stats.paired_difference`.  A lesson holds when the interval
excludes zero on the side the lesson claims.

* Bad news early beats a surprise: ``honest`` reporting ends with more trust
  and a smaller forecast error than ``green`` (never changing the first
  promise).
* Order by economic value: ``wsjf`` beats ``fifo`` and ``loudest`` on net
  value when cost of delay varies widely and the loudest stakeholder's wishes
  are not the urgent ones.
* The team needs its PO: a PO who answers questions slowly causes more
  blocked days, whether slow by habit (response time) or by overload (a small
  daily attention budget).
* The score agrees with every built-in's lesson: what the lesson recommends
  (:data:`posim.career.LESSON_CHECKS`) scores higher than what it warns
  against, on the scenario's default seed (the seed a class plays) and, paired,
  over 200 seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from posim import career
from posim.engine import replication_seed, simulate
from posim.scenario import Scenario, load_scenario
from posim.stats import paired_difference

ROOT_SEED = 20_261_126
"""Root seed of every lesson; replication r runs with ``replication_seed(ROOT_SEED, r)``."""


def paired(
    run_a: Callable[[int], dict[str, float | None]],
    run_b: Callable[[int], dict[str, float | None]],
    metric: str,
    replications: int,
) -> dict[str, Any]:
    """Paired-t comparison of ``b - a`` on ``metric`` over the same seeds."""
    seeds = [replication_seed(ROOT_SEED, r) for r in range(replications)]
    a = [run_a(seed)[metric] for seed in seeds]
    b = [run_b(seed)[metric] for seed in seeds]
    result = paired_difference(a, b)
    assert result["n"] == replications, f"{metric} missing in some replications"
    return result


def strategy_run(scenario: Scenario, strategy: str) -> Callable[[int], dict[str, float | None]]:
    """A replication of ``scenario`` played by ``strategy``: seed -> metrics."""
    return lambda seed: simulate(scenario, strategy=strategy, seed=seed, keep_records=False).metrics


def assert_positive(result: dict[str, Any]) -> None:
    """The 95 % interval lies entirely above zero."""
    low, high = result["ci95"]
    assert low > 0, f"95% CI [{low:.3g}, {high:.3g}] does not exclude zero"
    assert result["significant"]


# ----------------------------------------------------------------------
# Bad news early beats a surprise
# ----------------------------------------------------------------------

HONESTY = Scenario.model_validate(
    {
        "posim": 1,
        "name": "Honesty",
        "description": "Work slips (lognormal noise, icebergs); two stakeholders; reviews every week.",
        "horizon_days": 80,
        "cadence": {"mode": "kanban", "review_every": 5},
        "workflow": [{"name": "dev"}, {"name": "test"}],
        "team": [
            {"name": "Dev", "count": 2, "skills": {"dev": 1.0}},
            {"name": "Tess", "skills": {"test": 1.0}},
        ],
        "slippage": {"effort_sigma": 0.5, "iceberg_rate": 0.15, "iceberg_factor": 3},
        "stakeholders": [
            {
                "name": "Sales",
                "influence": 2,
                "trust": 60,
                "requests": {"every": {"dist": "exponential", "mean": 6}, "template": "feature"},
            },
            {
                "name": "Ops",
                "influence": 1,
                "trust": 60,
                "requests": {"every": {"dist": "exponential", "mean": 6}, "template": "feature"},
            },
        ],
        "templates": {
            "feature": {
                "value": {"dist": "lognormal", "median": 1000, "sigma": 0.5},
                "cost_of_delay": {"dist": "uniform", "low": 5, "high": 50},
                "effort": {
                    "dev": {"dist": "triangular", "low": 0.5, "mode": 1, "high": 3},
                    "test": {"dist": "uniform", "low": 0.2, "high": 0.6},
                },
            }
        },
        "backlog": [
            {"generate": 8, "template": "feature", "requester": "Sales"},
            {"generate": 8, "template": "feature", "requester": "Ops"},
        ],
    }
)


def test_honest_reporting_keeps_more_trust_than_green() -> None:
    result = paired(
        strategy_run(HONESTY, "fifo+green"),
        strategy_run(HONESTY, "fifo+honest"),
        "trust_mean",
        replications=30,
    )
    assert_positive(result)  # honest - green > 0
    assert result["mean_diff"] > 20  # not a rounding effect: a different relationship


def test_honest_reporting_forecasts_better_than_green() -> None:
    result = paired(
        strategy_run(HONESTY, "fifo+honest"),
        strategy_run(HONESTY, "fifo+green"),
        "forecast_error_days",
        replications=30,
    )
    assert_positive(result)  # green's error - honest's error > 0


def test_reporting_changes_only_the_stakeholders_not_the_flow() -> None:
    """Same seeds, different reporting: the team's work is identical (common random numbers)."""
    seed = replication_seed(ROOT_SEED, 0)
    honest = simulate(HONESTY, strategy="fifo+honest", seed=seed).metrics
    green = simulate(HONESTY, strategy="fifo+green", seed=seed).metrics
    for metric in ("items_done", "lead_time_mean", "net_value", "wip_mean"):
        assert honest[metric] == green[metric]
    assert honest["trust_mean"] != green["trust_mean"]


# ----------------------------------------------------------------------
# Order by economic value, not by who shouts
# ----------------------------------------------------------------------

ECONOMICS = Scenario.model_validate(
    {
        "posim": 1,
        "name": "Economics",
        "description": "Cost of delay spans two orders of magnitude; the CEO's pet items are not urgent.",
        "horizon_days": 60,
        "workflow": [{"name": "dev", "wip": 3}],
        "team": [{"name": "Dev", "count": 2, "skills": {"dev": 1.0}}],
        "slippage": {"effort_sigma": 0.4},
        "stakeholders": [
            {
                "name": "CEO",
                "influence": 3,
                "requests": {"every": {"dist": "exponential", "mean": 3}, "template": "pet"},
            },
            {
                "name": "Customers",
                "influence": 1,
                "requests": {"every": {"dist": "exponential", "mean": 2}, "template": "feature"},
            },
        ],
        "templates": {
            "feature": {
                "value": {"dist": "lognormal", "median": 800, "sigma": 0.6},
                "cost_of_delay": {"dist": "lognormal", "median": 20, "sigma": 1.2},
                "effort": {"dev": {"dist": "triangular", "low": 0.5, "mode": 1.5, "high": 5}},
            },
            "pet": {
                "value": {"dist": "lognormal", "median": 500, "sigma": 0.6},
                "cost_of_delay": {"dist": "lognormal", "median": 5, "sigma": 1.0},
                "effort": {"dev": {"dist": "triangular", "low": 1, "mode": 2, "high": 6}},
            },
        },
        "backlog": [
            {"generate": 15, "template": "feature", "requester": "Customers"},
            {"generate": 5, "template": "pet", "requester": "CEO"},
        ],
    }
)


@pytest.mark.parametrize("baseline", ["fifo", "loudest"])
def test_wsjf_beats_baseline_on_net_value(baseline: str) -> None:
    result = paired(
        strategy_run(ECONOMICS, baseline),
        strategy_run(ECONOMICS, "wsjf"),
        "net_value",
        replications=30,
    )
    assert_positive(result)  # wsjf - baseline > 0


def test_wsjf_wins_by_cutting_cost_of_delay() -> None:
    """The gain comes from cost of delay: wsjf pays less of it than fifo, on the same luck."""
    result = paired(
        strategy_run(ECONOMICS, "wsjf"),
        strategy_run(ECONOMICS, "fifo"),
        "cost_of_delay",
        replications=20,
    )
    assert_positive(result)  # fifo's cost - wsjf's cost > 0


# ----------------------------------------------------------------------
# The team needs its PO
# ----------------------------------------------------------------------

QUESTIONS: dict[str, Any] = {
    "posim": 1,
    "name": "Questions",
    "horizon_days": 40,
    "workflow": [{"name": "dev", "wip": 4}, {"name": "test", "wip": 2}],
    "team": [
        {"name": "Dev", "count": 3, "skills": {"dev": 1.0}},
        {"name": "Tess", "skills": {"test": 1.0}},
    ],
    "slippage": {"question_rate": 0.4, "effort_sigma": 0.5, "blocker_rate": 0.1},
    "templates": {
        "story": {
            "value": 500,
            "cost_of_delay": {"dist": "uniform", "low": 5, "high": 30},
            "effort": {
                "dev": {"dist": "triangular", "low": 0.5, "mode": 1, "high": 3},
                "test": 0.3,
            },
        }
    },
    "backlog": [{"generate": 60, "template": "story"}],
}


def with_po(**product_owner: Any) -> Scenario:
    """The questions scenario with these product-owner habits."""
    return Scenario.model_validate({**QUESTIONS, "product_owner": product_owner})


def test_a_slow_answering_po_causes_more_blocked_days() -> None:
    result = paired(
        strategy_run(with_po(response_days=0.25), "fifo"),
        strategy_run(with_po(response_days=2.0), "fifo"),
        "blocked_days",
        replications=25,
    )
    assert_positive(result)  # slow - quick > 0


def test_an_overloaded_po_causes_more_blocked_days() -> None:
    """Same response time; a PO with half an hour a day for answers of an hour each."""
    result = paired(
        strategy_run(with_po(response_days=0.5, answer_hours=1), "fifo"),
        strategy_run(with_po(response_days=0.5, answer_hours=1, daily_budget=0.5), "fifo"),
        "blocked_days",
        replications=25,
    )
    assert_positive(result)  # overloaded - free > 0


# ----------------------------------------------------------------------
# The score agrees with every built-in's lesson (DESIGN section 2, scoring)
# ----------------------------------------------------------------------

SCORE_SEEDS = 200
"""Paired seeds of the slow score check (replication seeds of the scenario's seed)."""


def _lesson_scores(check: career.LessonCheck, seeds: list[int]) -> tuple[list[float], list[float]]:
    """The score of the recommended and of the warned product owner, seed by seed."""
    scenario = load_scenario(check.scenario)
    warned_on = (
        scenario
        if check.ignores_variant is None
        else career.variant(scenario, check.ignores_variant)
    )
    recommended = [
        simulate(scenario, strategy=check.follows, seed=seed, keep_records=False).score.total
        for seed in seeds
    ]
    warned = [
        simulate(warned_on, strategy=check.ignores, seed=seed, keep_records=False).score.total
        for seed in seeds
    ]
    return recommended, warned


@pytest.mark.parametrize(
    "check", career.LESSON_CHECKS, ids=[check.scenario for check in career.LESSON_CHECKS]
)
def test_the_lesson_scores_higher_on_the_seed_the_class_plays(check: career.LessonCheck) -> None:
    """On the scenario's default seed, what the lesson recommends scores above what it warns."""
    seed = load_scenario(check.scenario).seed
    (recommended,), (warned,) = _lesson_scores(check, [seed])
    assert recommended > warned, (
        f"{check.scenario} seed {seed}: {check.follows} scores {recommended:.1f}, "
        f"{check.ignores_label or check.ignores} {warned:.1f}"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "check", career.LESSON_CHECKS, ids=[check.scenario for check in career.LESSON_CHECKS]
)
def test_the_lesson_scores_higher_over_200_paired_seeds(check: career.LessonCheck) -> None:
    """Paired 95 % interval of recommended - warned score over 200 seeds lies above zero."""
    root = load_scenario(check.scenario).seed
    seeds = [replication_seed(root, r) for r in range(SCORE_SEEDS)]
    recommended, warned = _lesson_scores(check, seeds)
    result = paired_difference(warned, recommended)
    assert result["n"] == SCORE_SEEDS
    assert_positive(result)
