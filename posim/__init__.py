"""posim: a product-owner simulator.

The public headless API::

    import posim

    scenario = posim.load_scenario("tutorial")       # a path or a built-in name
    result = posim.simulate(scenario, strategy="wsjf", reporting="honest", seed=1)
    result.metrics["lead_time_mean"]
    batch = posim.run_replications(scenario, "wsjf", runs=100, jobs=2)
    batch.summary["net_value"]["ci95"]
    table = posim.compare(scenario, ["fifo", "wsjf"], runs=200, jobs=2)
    table.paired["wsjf"]["net_value"]["ci95"]        # wsjf - fifo, paired by replication

    history = posim.read_history("closed.csv")        # your team's tracker export
    posim.forecast_when(history, 30).dates[85]         # when 30 items are done, 85 % sure
    posim.forecast_how_many(history, 20).items[85]     # items done in 20 days, 85 % sure
    scenario = posim.calibrate(posim.read_history("flow.csv"))  # a scenario like the team

Names are loaded lazily on first use, so ``import posim`` stays cheap and never
loads Textual or Rich (``tests/test_imports.py`` proves it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posim.calibration import calibrate
    from posim.comparison import Comparison, Sweep, compare, sweep
    from posim.engine import Result, simulate
    from posim.forecasting import forecast_how_many, forecast_when
    from posim.history import History, HistoryError, read_history
    from posim.runs import RunResult, run_replications
    from posim.scenario import Scenario, ScenarioError, load_scenario

    __version__: str


def _version() -> str:
    """The installed version of posim ("0+unknown" when run from a bare checkout).

    Looked up on first use of ``posim.__version__``: ``importlib.metadata`` costs
    ~20 ms to import, paid by every replication worker that never needs it.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posim")
    except PackageNotFoundError:  # pragma: no cover - only without an install
        return "0+unknown"


_LAZY: dict[str, str] = {
    "load_scenario": "posim.scenario",
    "Scenario": "posim.scenario",
    "ScenarioError": "posim.scenario",
    "simulate": "posim.engine",
    "Result": "posim.engine",
    "run_replications": "posim.runs",
    "RunResult": "posim.runs",
    "compare": "posim.comparison",
    "Comparison": "posim.comparison",
    "sweep": "posim.comparison",
    "Sweep": "posim.comparison",
    "read_history": "posim.history",
    "History": "posim.history",
    "HistoryError": "posim.history",
    "forecast_when": "posim.forecasting",
    "forecast_how_many": "posim.forecasting",
    "calibrate": "posim.calibration",
}

__all__ = [
    "Comparison",
    "History",
    "HistoryError",
    "Result",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Sweep",
    "__version__",
    "calibrate",
    "compare",
    "forecast_how_many",
    "forecast_when",
    "load_scenario",
    "read_history",
    "run_replications",
    "simulate",
    "sweep",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name == "__version__":
        value: Any = _version()
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Public names plus the module's own attributes."""
    return sorted(set(globals()) | set(__all__))
