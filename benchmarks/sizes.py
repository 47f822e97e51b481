"""How big each part of the benchmark is: the full run and ``--tiny`` (a smoke test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """How big each part of the benchmark is."""

    mm3_horizon: float
    """Horizon (days) of flow (a); the linearity partner runs twice as long."""
    tutorial_horizon: float
    """Horizon of flow (b), the scaled tutorial."""
    backlog_items: int
    """Initial backlog of flow (c)."""
    replication_runs: int
    """Replications of the tutorial per ``posim run`` in the --jobs comparison."""
    heavy_runs: int
    """Replications of the heavy --jobs comparison (the scaled tutorial)."""
    heavy_horizon: float
    """Horizon of the scaled tutorial in the heavy --jobs comparison."""
    memory_runs: tuple[int, int]
    """Replications of the two ``posim run`` memory measurements."""
    startup_repeats: int
    """Start-up timings per command (best of)."""
    a2_horizon: float = 3650
    """Horizon of flow (a'), the M/M/3 flow with reviews (scenarios allow 3,650 days)."""


FULL = Sizes(
    mm3_horizon=1000,
    tutorial_horizon=1500,
    backlog_items=5000,
    replication_runs=200,
    heavy_runs=60,
    heavy_horizon=1000,
    memory_runs=(100, 2000),
    startup_repeats=7,
)
TINY = Sizes(
    mm3_horizon=10,
    tutorial_horizon=20,
    backlog_items=40,
    replication_runs=2,
    heavy_runs=2,
    heavy_horizon=20,
    memory_runs=(1, 2),
    startup_repeats=1,
    a2_horizon=40,
)
