"""Shared fixtures for the whole suite.

``NO_COLOR`` is removed from the environment so terminal output (and the
snapshot tests of the game) look the same on every machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from posim.scenario import Scenario

os.environ.pop("NO_COLOR", None)

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository checkout the tests run from."""

TINY_SCENARIO: dict[str, Any] = {
    "posim": 1,
    "name": "Tiny",
    "description": "Two columns, two people, six items: small enough to reason about.",
    "seed": 7,
    "horizon_days": 20,
    "workflow": [{"name": "development", "wip": 2}, {"name": "test", "wip": 1}],
    "team": [
        {"name": "Dev", "skills": {"development": 1.0}},
        {"name": "Tess", "skills": {"test": 1.0}},
    ],
    "backlog": [
        {
            "title": "Login",
            "value": 500,
            "cost_of_delay": 20,
            "effort": {"development": 2, "test": 1},
        },
        {
            "title": "Search",
            "value": 800,
            "cost_of_delay": 10,
            "effort": {"development": 3, "test": 1},
        },
        {
            "title": "Cart",
            "value": 300,
            "cost_of_delay": 30,
            "effort": {"development": 1, "test": 0.5},
        },
        {
            "title": "Export",
            "value": 200,
            "cost_of_delay": 5,
            "effort": {"development": 4, "test": 1},
        },
        {
            "title": "Avatars",
            "value": 100,
            "cost_of_delay": 2,
            "effort": {"development": 1, "test": 0.5},
        },
        {
            "title": "Audit log",
            "value": 400,
            "cost_of_delay": 8,
            "effort": {"development": 2, "test": 2},
        },
    ],
}
"""A tiny deterministic scenario (no slippage, no stakeholders), as plain data."""

NOISY_SCENARIO: dict[str, Any] = {
    **TINY_SCENARIO,
    "name": "Noisy",
    "description": "The tiny scenario with slippage and a stakeholder, so replications differ.",
    "slippage": {"effort_sigma": 0.5, "defect_rate": 0.2, "blocker_rate": 0.2},
    "stakeholders": [
        {
            "name": "Sales",
            "influence": 2,
            "requests": {"every": {"dist": "exponential", "mean": 3}, "template": "feature"},
        },
    ],
    "templates": {
        "feature": {
            "value": {"dist": "lognormal", "median": 400, "sigma": 0.5},
            "cost_of_delay": {"dist": "uniform", "low": 5, "high": 25},
            "effort": {
                "development": {"dist": "triangular", "low": 0.5, "mode": 1, "high": 3},
                "test": 0.5,
            },
        }
    },
}
"""A small scenario with randomness everywhere (slippage, requests, generated values)."""


@pytest.fixture
def tiny_scenario() -> Scenario:
    """:data:`TINY_SCENARIO` as a validated :class:`~posim.scenario.Scenario`."""
    return Scenario.model_validate(TINY_SCENARIO)


@pytest.fixture
def noisy_scenario() -> Scenario:
    """:data:`NOISY_SCENARIO` as a validated :class:`~posim.scenario.Scenario`."""
    return Scenario.model_validate(NOISY_SCENARIO)


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario data (a dict, or raw text) as a YAML file; returns its path."""

    def write(data: dict[str, Any] | str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def posim_command() -> list[str]:
    """The command that runs posim in a subprocess (this interpreter, ``-m posim``)."""
    return [sys.executable, "-m", "posim"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a session where nothing ran (all deselected or skipped) fails."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(session.config, "workerinput"):
        return
    passed = len(reporter.stats.get("passed", []))
    if exitstatus == 0 and passed == 0:
        reporter.write_line("CI: no test passed (none collected, or all skipped): failing")
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
