"""``--profile``: a cProfile of flows (a), (b) and (c), the top functions by own time."""

from __future__ import annotations

import cProfile
import pstats
from typing import Any

from benchmarks.scenarios import backlog_scenario, mm3_scenario, tutorial_scaled, validated
from benchmarks.sizes import Sizes
from benchmarks.timing import posim_case


def profile_flow(scenario: Any, top: int = 15) -> dict[str, Any]:
    """cProfile one ``simulate`` run; the top functions by own time."""
    case = posim_case(scenario)
    profiler = cProfile.Profile()
    profiler.enable()
    items, _ = case()
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    rows = []
    raw_own: dict[str, float] = {}
    for (filename, line, function), (_, calls, own, cumulative, _) in raw.items():
        short = filename
        for marker in ("site-packages/", "/posim/", "lib/python"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
                short = ("posim/" + short) if marker == "/posim/" else short
                break
        raw_own[f"{short}:{line}({function})"] = own
        rows.append(
            {
                "function": f"{short}:{line}({function})",
                "calls": calls,
                "own_s": round(own, 4),
                "own_share": round(own / total, 3) if total else 0.0,
                "cumulative_s": round(cumulative, 4),
            }
        )
    rows.sort(key=lambda r: -raw_own[r["function"]])
    by_own = rows[:top]
    by_cumulative = sorted(
        (r for r in rows if r["function"].startswith("posim/")), key=lambda r: -r["cumulative_s"]
    )[:top]
    return {
        "items": items,
        "profiled_s": round(total, 3),
        "calls": sum(entry[1] for entry in raw.values()),
        "by_own_time": by_own,
        "posim_by_cumulative_time": by_cumulative,
    }


def bench_profiles(sizes: Sizes) -> dict[str, Any]:
    """Profiles of flows (a), (b) and (c) at their benchmark size."""
    return {
        "a_mm3": profile_flow(validated(mm3_scenario(sizes.mm3_horizon))),
        "b_tutorial": profile_flow(validated(tutorial_scaled(sizes.tutorial_horizon))),
        "c_backlog": profile_flow(validated(backlog_scenario(sizes.backlog_items))),
    }
