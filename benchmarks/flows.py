"""Flows (a), (a'), (b) and (c): items/s of ``simulate``, each beside its partners.

(a) the M/M/3 flow beside bare SimPy and Ciw, and at twice the horizon; (a')
the M/M/3 flow at 2.4 items a day with reviews, records off and on, beside the
textbook SimPy model, the Store floor and Ciw; (b) the tutorial scaled up and
(c) a big backlog, each beside its twice-as-big partner (linearity).  Flow (d)
is in :mod:`benchmarks.flow_d`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.references import (
    ciw_available,
    ciw_mm3,
    erlang_c_lead_time,
    simpy_resource_mm3,
    simpy_store_mm3,
)
from benchmarks.scenarios import (
    A2_REPORT_EVERY,
    A2_SERVICE_RATE,
    MM3_LOAD,
    MM3_SERVERS,
    MM3_SERVICE_RATE,
    backlog_scenario,
    mm3_scenario,
    tutorial_scaled,
    validated,
)
from benchmarks.sizes import Sizes
from benchmarks.timing import interleaved, paired_ratio, paired_time_ratio, posim_case


def bench_flow_a(sizes: Sizes, repeats: int) -> dict[str, Any]:
    """(a) M/M/3: posim, its linearity partner, bare SimPy (two ways) and Ciw."""
    horizon = sizes.mm3_horizon
    single = validated(mm3_scenario(horizon))
    double = validated(mm3_scenario(2 * horizon))
    cases: dict[str, Callable[[], tuple[int, float]]] = {
        "posim": posim_case(single),
        "posim_2x": posim_case(double),
        "simpy_store": lambda: simpy_store_mm3(horizon, 1),
        "simpy_resource": lambda: simpy_resource_mm3(horizon, 1),
    }
    has_ciw = ciw_available()
    if has_ciw:
        cases["ciw"] = lambda: ciw_mm3(horizon, 1)
    posim_case(validated(mm3_scenario(min(horizon, 5))))()  # warm-up: lazy imports
    timed = interleaved(cases, repeats)
    floor_name = max(("simpy_store", "simpy_resource"), key=lambda n: timed[n]["items_per_cpu_s"])
    report: dict[str, Any] = {
        "flow": f"M/M/{MM3_SERVERS}, load {MM3_LOAD}, mean work {1 / MM3_SERVICE_RATE:g} day, "
        f"horizon {horizon:g} days",
        "erlang_c_lead_time": round(erlang_c_lead_time(), 4),
        "cases": timed,
        "simpy_floor": floor_name,
        **_ratios(timed, "vs_simpy", "posim", floor_name),
        **_linearity(timed),
    }
    if has_ciw:
        report.update(_ratios(timed, "vs_ciw", "posim", "ciw"))
    else:
        report["ciw_note"] = "Ciw is not installed (pip install 'posim[bench]'): skipped"
    return report


def bench_flow_a2(sizes: Sizes, repeats: int) -> dict[str, Any]:
    """(a') M/M/3 at 2.4 items a day, one stakeholder reported to every 10 days.

    posim (records off and on) beside the textbook SimPy model (a process per
    item and a Resource), the Store floor and Ciw: the per-day and per-review
    costs that flow (a), at 9.6 items a day and no reviews, hides.
    """
    horizon = sizes.a2_horizon
    rate = A2_SERVICE_RATE
    scenario = validated(mm3_scenario(horizon, rate, A2_REPORT_EVERY))
    cases: dict[str, Callable[[], tuple[int, float]]] = {
        "posim": posim_case(scenario),
        "posim_records": posim_case(scenario, keep_records=True),
        "simpy_resource": lambda: simpy_resource_mm3(horizon, 1, rate),
        "simpy_store": lambda: simpy_store_mm3(horizon, 1, rate),
    }
    has_ciw = ciw_available()
    if has_ciw:
        cases["ciw"] = lambda: ciw_mm3(horizon, 1, rate)
    timed = interleaved(cases, repeats)
    off, on = timed["posim"]["best_cpu_s"], timed["posim_records"]["best_cpu_s"]
    report: dict[str, Any] = {
        "flow": f"M/M/{MM3_SERVERS}, load {MM3_LOAD}, mean work {1 / rate:g} day, "
        f"a review every {A2_REPORT_EVERY:g} days, horizon {horizon:g} days",
        "erlang_c_lead_time": round(erlang_c_lead_time(MM3_LOAD * MM3_SERVERS * rate, rate), 4),
        "cases": timed,
        **_ratios(timed, "vs_textbook", "posim", "simpy_resource"),
        **_ratios(timed, "vs_store", "posim", "simpy_store"),
        "records_cost": round(on / off, 3) if off else None,
    }
    if has_ciw:
        report.update(_ratios(timed, "vs_ciw", "posim", "ciw"))
    else:
        report["ciw_note"] = "Ciw is not installed (pip install 'posim[bench]'): skipped"
    return report


def _ratios(timed: dict[str, dict[str, Any]], key: str, mine: str, other: str) -> dict[str, Any]:
    """``ratio_<key>``: items per CPU second of ``mine`` over ``other`` (best times);
    ``wall_ratio_<key>``: the same by wall time; ``paired_ratio_<key>``: the median of
    the repeats' back-to-back ratios (:func:`~benchmarks.timing.paired_ratio`)."""

    def ratio(rate: str) -> float | None:
        if not timed[mine][rate] or not timed[other][rate]:
            return None
        return round(float(timed[mine][rate]) / float(timed[other][rate]), 3)

    return {
        f"ratio_{key}": ratio("items_per_cpu_s"),
        f"wall_ratio_{key}": ratio("items_per_s"),
        f"paired_ratio_{key}": paired_ratio(timed, mine, other),
    }


def _linearity(timed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Time of the twice-as-big run over the time of the base run (CPU, and wall), and
    ``paired_linear_ratio``: the median of the repeats' back-to-back ratios."""
    double, single = timed["posim_2x"], timed["posim"]
    return {
        "linear_ratio": round(double["best_cpu_s"] / single["best_cpu_s"], 3)
        if single["best_cpu_s"]
        else None,
        "wall_linear_ratio": round(double["best_s"] / single["best_s"], 3),
        "paired_linear_ratio": paired_time_ratio(timed, "posim_2x", "posim"),
    }


def bench_flow_pair(
    name: str, single: dict[str, Any], double: dict[str, Any], repeats: int
) -> dict[str, Any]:
    """A posim flow and its twice-as-long partner, timed in alternation."""
    cases = {"posim": posim_case(validated(single)), "posim_2x": posim_case(validated(double))}
    timed = interleaved(cases, repeats)
    return {
        "flow": name,
        "cases": timed,
        **_linearity(timed),
    }


def bench_flow_b(sizes: Sizes, repeats: int) -> dict[str, Any]:
    """(b) The tutorial scaled up: longer horizon, three times the requests."""
    horizon = sizes.tutorial_horizon
    return bench_flow_pair(
        f"tutorial (3 columns, slippage, 2 stakeholders, reviews every 10 days), 3x the "
        f"requests, horizon {horizon:g} days",
        tutorial_scaled(horizon),
        tutorial_scaled(2 * horizon),
        repeats,
    )


def bench_flow_c(sizes: Sizes, repeats: int) -> dict[str, Any]:
    """(c) A big initial backlog; the partner has twice the items and the horizon."""
    items = sizes.backlog_items
    single = backlog_scenario(items)
    return bench_flow_pair(
        f"backlog of {items} items, 3 columns with WIP limits, Ready limit 5, 9 members, "
        f"horizon {single['horizon_days']:g} days",
        single,
        backlog_scenario(2 * items),
        repeats,
    )
