"""The engine against queueing theory: Little's law, M/M/1 and M/M/c (Erlang C).

None of the reference figures here come from posim: they are the textbook
closed forms.

* **Little's law** (L = lambda W) holds for any stable system: the
  time-average number of items in progress equals throughput times mean cycle
  time, and the time-average number in the system equals throughput times
  mean lead time.  The averages are integrated here from the event records,
  independently of :mod:`posim.engine.metrics`.
* **M/M/c**: one column, no WIP limits, no Ready limit (so the queue is the
  team's pull queue), Poisson requests (exponential inter-arrival times,
  accepted and committed at arrival by the default triage) and exponential
  work (the template's estimate is exponential and, with no slippage, the
  actual effort equals the estimate), ``c`` members at full speed.  The mean
  lead time (arrival -> done) is ``W = C(c, a) / (c mu - lambda) + 1 / mu``
  with ``a = lambda / mu`` and Erlang's C formula; for ``c = 1`` that is
  ``1 / (mu - lambda)``.  The chance that an arrival waits is ``C(c, a)``.

Method: several replications (independent seeds) per load; from each, the
mean lead time of the items that arrived after a warm-up (10 % of the
horizon, the system starts empty) and before the last 5 % (so nearly all of
them are done).  The test asserts that the closed form lies inside the 99 %
t confidence interval of the replication means, and that the relative error
is below a stated tolerance (about three standard errors of the estimate).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from scipy import stats as scipy_stats

from benchmarks.queueing import erlang_c, mmc_lead_time
from posim.engine import Simulation, simulate
from posim.scenario import Scenario


def test_closed_forms_match_textbook_values() -> None:
    """The reference formulas themselves, on values from queueing tables."""
    assert mmc_lead_time(0.8, 1.0, 1) == pytest.approx(5.0)  # 1 / (mu - lambda)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.4) == pytest.approx(0.6472, abs=1e-4)


def mmc_scenario(
    arrival_rate: float, service_rate: float, servers: int, horizon: float
) -> Scenario:
    """One column, ``servers`` members, Poisson requests, exponential work, no limits."""
    return Scenario.model_validate(
        {
            "posim": 1,
            "name": "M/M/c",
            "horizon_days": horizon,
            "workflow": [{"name": "dev"}],
            "team": [{"name": "Dev", "count": servers, "skills": {"dev": 1.0}}],
            "stakeholders": [
                {
                    "name": "Customers",
                    "requests": {
                        "every": {"dist": "exponential", "mean": 1 / arrival_rate},
                        "template": "job",
                    },
                }
            ],
            "templates": {
                "job": {"effort": {"dev": {"dist": "exponential", "mean": 1 / service_rate}}}
            },
        }
    )


def replicate_lead_times(scenario: Scenario, replications: int) -> tuple[list[float], float, float]:
    """Per-replication mean lead times after warm-up, the share that waited, throughput."""
    horizon = scenario.horizon_days
    means, waited, arrivals = [], 0, 0
    throughput = []
    for seed in range(replications):
        sim = Simulation(scenario, seed=1000 + seed, strategy="fifo", keep_records=False)
        sim.run()
        window = [i for i in sim.items if 0.10 * horizon <= i.arrived < 0.95 * horizon]
        assert all(i.done is not None for i in window[: len(window) - 50])
        done = [i for i in window if i.done is not None]
        means.append(statistics.fmean(i.done - i.arrived for i in done if i.done is not None))
        waited += sum(1 for i in done if i.started is not None and i.started > i.arrived)
        arrivals += len(done)
        throughput.append(len(sim.done_items) / horizon)
    return means, waited / arrivals, statistics.fmean(throughput)


def _check_against_closed_form(
    servers: int, load: float, replications: int, horizon: float, tolerance: float
) -> None:
    service_rate = 1.0
    arrival_rate = load * servers * service_rate
    scenario = mmc_scenario(arrival_rate, service_rate, servers, horizon)
    assert scenario.ready_wip is None and all(c.wip is None for c in scenario.workflow)
    assert scenario.slippage.effort_sigma == 0  # actual effort = the exponential estimate
    expected = mmc_lead_time(arrival_rate, service_rate, servers)
    means, share_waited, throughput = replicate_lead_times(scenario, replications)
    mean = statistics.fmean(means)
    half_width = scipy_stats.t.ppf(0.995, replications - 1) * statistics.stdev(means)
    half_width /= math.sqrt(replications)
    assert mean - half_width <= expected <= mean + half_width, (
        f"M/M/{servers} rho={load}: closed form {expected:.3f} outside "
        f"99% CI [{mean - half_width:.3f}, {mean + half_width:.3f}]"
    )
    assert abs(mean - expected) / expected < tolerance, (
        f"M/M/{servers} rho={load}: mean lead time {mean:.3f} vs {expected:.3f}"
    )
    assert share_waited == pytest.approx(erlang_c(servers, arrival_rate / service_rate), abs=0.03)
    assert throughput == pytest.approx(arrival_rate, rel=0.03)


@pytest.mark.parametrize(
    ("servers", "load", "replications", "horizon", "tolerance"),
    [
        (1, 0.5, 20, 2400, 0.07),
        (1, 0.7, 30, 3000, 0.07),
        (2, 0.7, 20, 1800, 0.07),
        (3, 0.8, 20, 2000, 0.07),
    ],
    ids=["M/M/1 rho=0.5", "M/M/1 rho=0.7", "M/M/2 rho=0.7", "M/M/3 rho=0.8"],
)
def test_mmc_lead_time_matches_erlang_c(
    servers: int, load: float, replications: int, horizon: float, tolerance: float
) -> None:
    """Mean lead time within the tolerance (about 3 standard errors) of the closed form."""
    _check_against_closed_form(servers, load, replications, horizon, tolerance)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("servers", "load", "replications", "horizon", "tolerance"),
    [
        (1, 0.8, 60, 3650, 0.06),
        (1, 0.9, 80, 3650, 0.10),
        (4, 0.9, 30, 3650, 0.06),
        (2, 0.5, 40, 3650, 0.03),
    ],
    ids=["M/M/1 rho=0.8", "M/M/1 rho=0.9", "M/M/4 rho=0.9", "M/M/2 rho=0.5"],
)
def test_mmc_lead_time_matches_erlang_c_heavy(
    servers: int, load: float, replications: int, horizon: float, tolerance: float
) -> None:
    """Heavier loads and longer runs (slow)."""
    _check_against_closed_form(servers, load, replications, horizon, tolerance)


# ----------------------------------------------------------------------
# Little's law
# ----------------------------------------------------------------------


def _time_average(records: list[Any], up: str, down: str, horizon: float) -> float:
    """Time-average of (#items that had ``up`` and not yet ``down``), from the records.

    ``up`` counts the first occurrence per item only (an item enters many columns).
    """
    seen: set[int] = set()
    changes: list[tuple[float, int]] = []
    for record in records:
        if record.item is None:
            continue
        if record.kind == up and record.item not in seen:
            seen.add(record.item)
            changes.append((record.time, +1))
        elif record.kind == down:
            changes.append((record.time, -1))
    area, level, last = 0.0, 0, 0.0
    for time, step in changes:
        area += level * (time - last)
        level, last = level + step, time
    return (area + level * (horizon - last)) / horizon


LITTLE_BASE: dict[str, Any] = {
    "posim": 1,
    "name": "Little",
    "horizon_days": 2500,
    "stakeholders": [
        {
            "name": "Customers",
            "requests": {"every": {"dist": "exponential", "mean": 1.0}, "template": "job"},
        }
    ],
}


@pytest.mark.parametrize(
    "layout",
    [
        {
            "workflow": [{"name": "dev", "wip": 2}],
            "team": [
                {"name": "Fast", "skills": {"dev": 1.0}},
                {"name": "Slow", "skills": {"dev": 0.6}},
            ],
            "slippage": {"effort_sigma": 0.4},
            "templates": {
                "job": {
                    "effort": {"dev": {"dist": "triangular", "low": 0.2, "mode": 0.8, "high": 2}}
                }
            },
        },
        {
            "workflow": [{"name": "dev", "wip": 3}, {"name": "test", "wip": 1}],
            "ready_wip": 3,
            "team": [
                {"name": "Dev", "count": 2, "skills": {"dev": 1.0}},
                {"name": "Tess", "skills": {"test": 1.0, "dev": 0.5}},
            ],
            "slippage": {"effort_sigma": 0.3, "defect_rate": 0.2, "blocker_rate": 0.1},
            "templates": {
                "job": {
                    "effort": {
                        "dev": {"dist": "exponential", "mean": 1.0},
                        "test": {"dist": "uniform", "low": 0.1, "high": 0.7},
                    }
                }
            },
        },
    ],
    ids=["one column", "two columns with limits, defects and blockers"],
)
def test_littles_law(layout: dict[str, Any]) -> None:
    """Mean WIP = throughput x mean cycle time; mean in system = throughput x mean lead time.

    The averages are integrated from the records; arrivals come at rate 1 a day.
    """
    scenario = Scenario.model_validate({**LITTLE_BASE, **layout})
    result = simulate(scenario, strategy="fifo", seed=11)
    metrics = result.metrics
    horizon = scenario.horizon_days
    throughput = metrics["throughput_per_day"]
    assert throughput is not None and metrics["cycle_time_mean"] is not None
    assert metrics["lead_time_mean"] is not None
    assert throughput == pytest.approx(1.0, rel=0.05)  # Poisson stream of rate 1, all served

    in_progress = _time_average(result.records, "entered", "done", horizon)
    in_system = _time_average(result.records, "arrived", "done", horizon)
    assert in_progress == pytest.approx(throughput * metrics["cycle_time_mean"], rel=0.005)
    assert in_system == pytest.approx(throughput * metrics["lead_time_mean"], rel=0.005)
    # The engine's own time-average WIP agrees with the records.
    assert metrics["wip_mean"] == pytest.approx(in_progress, rel=1e-9)
    # Waiting in Ready/backlog is real: the system holds more than the columns do.
    assert in_system > in_progress * 1.05
