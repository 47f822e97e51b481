"""Benchmark case (d): an overloaded flow whose backlog grows without bound (issue 13).

Three columns with slippage, two stakeholders sending about 4 requests a day
to a team that finishes about 2.8, and honest reporting at a review every 10
days: the backlog grows by about one item a day, so every review forecasts
"when" for more and more items.  Before the forecast was computed from the
distribution of sums of daily throughput, a review cost backlog x trials
random draws and the run time grew quadratically with the horizon.

Timed at ``horizon`` and ``2 * horizon`` days, in alternation with an M/M/3
reference flow of about 2.4 items a day whose stakeholder is reported to every
10 days (case (a') of issue 13), so the report holds the two targets on its
own: doubling the horizon costs at most 2.2x the time, and (d) does at least
0.1x the reference's items per CPU second.

Also here: the speed of ``posim forecast`` (10,000 trials on a year of history)
and of ``posim calibrate`` with its backtest (issue 15), timed in-process.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.scenarios import validated
from benchmarks.timing import interleaved, paired_time_ratio, posim_case

TARGET_LINEAR = 2.2
"""Most time doubling (d)'s horizon may cost."""
TARGET_VS_REFERENCE = 0.1
"""Least items per CPU second of (d) relative to the M/M/3 reference."""


def overloaded_scenario(horizon: float) -> dict[str, Any]:
    """Flow (d): three columns, slippage, reviews every 10 days, requests above capacity."""
    return {
        "posim": 1,
        "name": f"bench-overloaded-{horizon:g}d",
        "horizon_days": horizon,
        "cadence": {"mode": "kanban", "replenish_every": 0, "review_every": 10},
        "ready_wip": 4,
        "workflow": [
            {"name": "analysis", "wip": 2},
            {"name": "development", "wip": 4},
            {"name": "test", "wip": 2},
        ],
        "team": [
            {"name": "Ana", "skills": {"analysis": 1.0}},
            {"name": "Dev", "count": 2, "skills": {"development": 1.0}},
            {"name": "Tess", "skills": {"test": 1.0}},
        ],
        "slippage": {"effort_sigma": 0.3, "defect_rate": 0.1, "rework_fraction": 0.3},
        "stakeholders": [
            {
                "name": name,
                "requests": {"every": {"dist": "exponential", "mean": 0.5}, "template": "task"},
            }
            for name in ("Sales", "Support")
        ],
        "templates": {
            "task": {
                "value": {"dist": "lognormal", "median": 600, "sigma": 0.5},
                "cost_of_delay": {"dist": "uniform", "low": 5, "high": 30},
                "effort": {
                    "analysis": 0.25,
                    "development": {"dist": "triangular", "low": 0.4, "mode": 0.6, "high": 1.0},
                    "test": 0.25,
                },
            }
        },
    }


def reference_scenario(horizon: float) -> dict[str, Any]:
    """Case (a') of issue 13: M/M/3 at about 2.4 items a day, a stakeholder reviewed every 10 days."""
    servers, load, service_rate = 3, 0.8, 1.0
    return {
        "posim": 1,
        "name": "bench-mm3-reviewed",
        "horizon_days": horizon,
        "cadence": {"mode": "kanban", "replenish_every": 0, "review_every": 10},
        "workflow": [{"name": "work"}],
        "team": [{"name": "Member", "count": servers, "skills": {"work": 1.0}}],
        "stakeholders": [
            {
                "name": "Poisson",
                "requests": {
                    "every": {"dist": "exponential", "mean": 1.0 / (load * servers * service_rate)},
                    "template": "job",
                },
            }
        ],
        "templates": {"job": {"effort": {"work": {"dist": "exponential", "mean": 1.0}}}},
    }


def bench_flow_d(horizon: float, repeats: int) -> dict[str, Any]:
    """(d) at ``horizon`` and twice it, beside the M/M/3 reference; targets checked here."""
    cases = {
        "posim": posim_case(validated(overloaded_scenario(horizon))),
        "posim_2x": posim_case(validated(overloaded_scenario(2 * horizon))),
        "reference_mm3_reviewed": posim_case(validated(reference_scenario(2 * horizon))),
    }
    timed = interleaved(cases, repeats)
    single, double = timed["posim"], timed["posim_2x"]
    reference = timed["reference_mm3_reviewed"]
    linear = round(double["best_cpu_s"] / single["best_cpu_s"], 3) if single["best_cpu_s"] else None
    versus = (
        round(double["items_per_cpu_s"] / reference["items_per_cpu_s"], 3)
        if double["items_per_cpu_s"] and reference["items_per_cpu_s"]
        else None
    )
    return {
        "flow": f"overloaded: 3 columns, slippage, 2 stakeholders at 4 requests a day for a team "
        f"finishing about 2.8, honest reviews every 10 days, horizon {horizon:g} days",
        "cases": timed,
        "linear_ratio": linear,
        "paired_linear_ratio": paired_time_ratio(timed, "posim_2x", "posim"),
        "ratio_vs_reference": versus,
        "checks": [
            {
                "check": "d_linear",
                "value": linear,
                "target": f"<= {TARGET_LINEAR:g}",
                "ok": None if linear is None else linear <= TARGET_LINEAR,
            },
            {
                "check": "d_vs_reference",
                "value": versus,
                "target": f">= {TARGET_VS_REFERENCE:g}",
                "ok": None if versus is None else versus >= TARGET_VS_REFERENCE,
            },
        ],
    }


def synthetic_history_csv(path: Path, days: int, seed: int = 1) -> int:
    """A closed-dates CSV of ``days`` calendar days at about 3 items a day; returns the rows."""
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    rows = ["Key,Summary,Resolved"]
    for day in range(days):
        for _ in range(rng.choice((0, 1, 2, 3, 4, 5, 6))):
            rows.append(f"T-{len(rows)},Item {len(rows)},{start + dt.timedelta(days=day)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


def bench_team_data(tiny: bool) -> dict[str, Any]:
    """``forecast`` (10,000 trials on a year of history) and ``calibrate`` with its backtest."""
    from posim import calibration, forecasting
    from posim.engine import simulate
    from posim.flowcsv import write_flow_csv
    from posim.history import read_history
    from posim.scenario import Scenario, load_scenario

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="posim-bench-team-") as tmp:
        closed = Path(tmp) / "closed.csv"
        items = synthetic_history_csv(closed, 30 if tiny else 365)
        start = time.perf_counter()
        history = read_history(closed)
        report = forecasting.forecast(history, when=items // 4, days=30, trials=10_000, seed=1)
        out["forecast_s"] = round(time.perf_counter() - start, 4)
        out["forecast_history_items"] = items
        assert report.when is not None
        out["forecast_when_p85_days"] = report.when.days[85]

        scenario = load_scenario("tutorial")
        document = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
        document["horizon_days"] = 30 if tiny else 250
        result = simulate(
            Scenario.model_validate(document), strategy="fifo", seed=3, keep_records=True
        )
        flow = Path(tmp) / "flow.csv"
        write_flow_csv(flow, result.items, result.columns)
        start = time.perf_counter()
        fitted = calibration.fit(read_history(flow))
        backtest = calibration.backtest(fitted, runs=10, seed=1)
        out["calibrate_s"] = round(time.perf_counter() - start, 4)
        out["calibrate_rows"] = len(backtest.rows)
    out["checks"] = [
        {
            "check": "forecast_s",
            "value": out["forecast_s"],
            "target": "< 3",
            "ok": out["forecast_s"] < 3,
        },
        {
            "check": "calibrate_s",
            "value": out["calibrate_s"],
            "target": "< 5",
            "ok": out["calibrate_s"] < 5,
        },
    ]
    return out
