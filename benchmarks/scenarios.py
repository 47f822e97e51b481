"""The scenario documents the benchmark times: flows (a), (a'), (b) and (c).

The M/M/3 flow's parameters are here too, shared with its bare-SimPy and Ciw
models in :mod:`benchmarks.references`.  Flow (d)'s scenarios live with its
case in :mod:`benchmarks.flow_d`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MM3_SERVERS = 3
MM3_LOAD = 0.8
MM3_SERVICE_RATE = 4.0
"""Items per day one member finishes in the M/M/3 flow (mean work 0.25 day)."""
A2_SERVICE_RATE = 1.0
"""Flow (a'): mean work 1 day, so 2.4 items a day arrive at load 0.8."""
A2_REPORT_EVERY = 10.0
"""Flow (a'): days between the stakeholder's status reviews."""


def mm3_scenario(
    horizon: float, service_rate: float = MM3_SERVICE_RATE, report_every: float | None = None
) -> dict[str, Any]:
    """Flow (a): one column, three members, Poisson arrivals, exponential work, load 0.8.

    Flow (a'): the same at ``service_rate`` 1 (2.4 items a day), the stakeholder
    reported to every ``report_every`` days (an honest forecast at each review).
    """
    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    return {
        "posim": 1,
        "name": "bench-mm3",
        "horizon_days": horizon,
        "workflow": [{"name": "work"}],
        "team": [{"name": "Member", "count": MM3_SERVERS, "skills": {"work": 1.0}}],
        "stakeholders": [
            {
                "name": "Poisson",
                "requests": {
                    "every": {"dist": "exponential", "mean": 1.0 / arrival_rate},
                    "template": "job",
                },
                **({} if report_every is None else {"report_every": report_every}),
            }
        ],
        "templates": {
            "job": {"effort": {"work": {"dist": "exponential", "mean": 1.0 / service_rate}}}
        },
    }


def tutorial_document() -> dict[str, Any]:
    """The built-in tutorial scenario as a plain document."""
    from posim.scenario import load_scenario

    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "tutorial.yaml")
    document: dict[str, Any] = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return document


def tutorial_scaled(horizon: float, request_factor: float = 3.0) -> dict[str, Any]:
    """Flow (b): the tutorial with a longer horizon and ``request_factor`` x the requests."""
    document = tutorial_document()
    document["name"] = f"bench-tutorial-{horizon:g}d"
    document["horizon_days"] = horizon
    for stakeholder in document["stakeholders"]:
        every = stakeholder["requests"]["every"]
        every["mean"] = every["mean"] / request_factor
    return document


def backlog_scenario(items: int) -> dict[str, Any]:
    """Flow (c): ``items`` in the initial backlog of a three-column board with limits.

    The horizon leaves room to finish (nearly) all of them: about 18 items a day.
    """
    return {
        "posim": 1,
        "name": f"bench-backlog-{items}",
        "horizon_days": max(1.0, round(items / 15.0)),
        "ready_wip": 5,
        "workflow": [
            {"name": "analysis", "wip": 4},
            {"name": "development", "wip": 6},
            {"name": "test", "wip": 4},
        ],
        "team": [
            {"name": "Analyst", "count": 2, "skills": {"analysis": 1.0}},
            {"name": "Dev", "count": 5, "skills": {"development": 1.0, "test": 0.5}},
            {"name": "Tester", "count": 2, "skills": {"test": 1.0, "analysis": 0.5}},
        ],
        "slippage": {"effort_sigma": 0.3, "defect_rate": 0.1, "rework_fraction": 0.3},
        "templates": {
            "task": {
                "value": {"dist": "lognormal", "median": 600, "sigma": 0.6},
                "cost_of_delay": {"dist": "uniform", "low": 5, "high": 30},
                "effort": {
                    "analysis": 0.05,
                    "development": {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.5},
                    "test": 0.075,
                },
            }
        },
        "backlog": [{"generate": items, "template": "task"}],
    }


def validated(document: dict[str, Any]) -> Any:
    """A :class:`posim.scenario.Scenario` from a document."""
    from posim.scenario import Scenario

    return Scenario.model_validate(document)
