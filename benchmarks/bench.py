"""posim's benchmark: one run, one table, one JSON report.

What it measures (GitHub issue 7), each ratio from sides timed in alternation
(best of ``--repeats``), so the ratio holds on a noisy machine:

* items/s of :func:`posim.engine.simulate` on

  (a) an M/M/3 flow at load 0.8 (one column, three members, Poisson arrivals,
      exponential work), next to the same flow in bare SimPy (the floor: a
      Store-based model with long-lived servers and a Resource-based one; the
      faster is the floor) and in Ciw (the peer, when installed);
  (b) the tutorial scenario scaled up (three columns, WIP limits, slippage,
      stakeholders, status reviews), with three times the requests;
  (c) a backlog of 5,000 items on a three-column board, to expose per-pull costs;
  (d) an overloaded three-column flow whose backlog grows without bound, with
      honest reviews (``benchmarks/flow_d.py``): doubling its horizon must
      cost at most 2.2x, and its items/s be at least 0.1x an M/M/3 flow's with
      a stakeholder reviewed every 10 days; and the speed of ``posim forecast``
      (10,000 trials, a year of history) and ``posim calibrate`` with its backtest;

  each also at twice the horizon (and, for (c), twice the items): time must grow
  at most 2.2x;
* replications/s of ``posim run --runs R --jobs 1`` and ``--jobs 2``;
* start-up time of ``posim --help`` and ``posim run --help``, and whether
  Textual or Rich get imported on those paths (``python -X importtime``);
* peak memory (max RSS of the child) of ``posim run`` for 100 and 2,000
  replications.

``--profile`` adds a cProfile of (a), (b) and (c): the top functions by own time.
``--tiny`` runs everything at a toy size (the test suite's smoke test uses it;
its figures mean nothing).

Usage::

    python -m benchmarks [--out report.json] [--repeats 3] [--profile] [--tiny]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simpy

from benchmarks import flow_d
from benchmarks.queueing import mmc_lead_time

REPORT_VERSION = 1
"""Version of the JSON report's layout."""

TARGETS: dict[str, tuple[str, float]] = {
    "a_vs_simpy": (">=", 0.5),
    "a_vs_ciw": (">=", 1.0),
    "a_linear": ("<=", 2.2),
    "a2_vs_textbook": (">=", 0.6),
    "a2_vs_ciw": (">=", 1.0),
    "a2_records_cost": ("<=", 2.0),
    "b_linear": ("<=", 2.2),
    "c_linear": ("<=", 2.2),
    "jobs_speedup": (">=", 1.7),
    "jobs_speedup_tutorial": (">=", 1.7),
    "startup_help_s": ("<", 0.3),
    "startup_run_help_s": ("<", 0.3),
    "memory_ratio": ("<=", 1.5),
    "memory_ratio_run": ("<=", 1.5),
}
"""Target per check: comparison and bound (issue 7)."""

MM3_SERVERS = 3
MM3_LOAD = 0.8
MM3_SERVICE_RATE = 4.0
"""Items per day one member finishes in the M/M/3 flow (mean work 0.25 day)."""
A2_SERVICE_RATE = 1.0
"""Flow (a'): mean work 1 day, so 2.4 items a day arrive at load 0.8."""
A2_REPORT_EVERY = 10.0
"""Flow (a'): days between the stakeholder's status reviews."""


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


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# The M/M/3 flow in bare SimPy and in Ciw
# --------------------------------------------------------------------------


def simpy_store_mm3(
    horizon: float, seed: int, service_rate: float = MM3_SERVICE_RATE
) -> tuple[int, float]:
    """Bare SimPy, Store-based: arrivals put jobs in a store, three long-lived servers pull.

    Returns (items done, mean lead time).
    """
    env = simpy.Environment()
    arrival_rng = random.Random(seed)
    work_rng = random.Random(seed + 1)
    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    store = simpy.Store(env)
    done = [0, 0.0]

    def arrivals() -> Any:
        timeout, gap, put = env.timeout, arrival_rng.expovariate, store.put
        while True:
            yield timeout(gap(arrival_rate))
            put(env.now)

    def server() -> Any:
        timeout, work, get = env.timeout, work_rng.expovariate, store.get
        while True:
            arrived = yield get()
            yield timeout(work(service_rate))
            done[0] += 1
            done[1] += env.now - arrived

    env.process(arrivals())
    for _ in range(MM3_SERVERS):
        env.process(server())
    env.run(until=horizon)
    count = int(done[0])
    return count, (done[1] / count if count else math.nan)


def simpy_resource_mm3(
    horizon: float, seed: int, service_rate: float = MM3_SERVICE_RATE
) -> tuple[int, float]:
    """Bare SimPy, Resource-based: one process per job requests a capacity-3 resource.

    Returns (items done, mean lead time).
    """
    env = simpy.Environment()
    arrival_rng = random.Random(seed)
    work_rng = random.Random(seed + 1)
    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    team = simpy.Resource(env, capacity=MM3_SERVERS)
    done = [0, 0.0]

    def job(arrived: float) -> Any:
        with team.request() as request:
            yield request
            yield env.timeout(work_rng.expovariate(service_rate))
        done[0] += 1
        done[1] += env.now - arrived

    def arrivals() -> Any:
        timeout, gap, process = env.timeout, arrival_rng.expovariate, env.process
        while True:
            yield timeout(gap(arrival_rate))
            process(job(env.now))

    env.process(arrivals())
    env.run(until=horizon)
    count = int(done[0])
    return count, (done[1] / count if count else math.nan)


def ciw_available() -> bool:
    """Whether Ciw (the ``bench`` extra) is installed."""
    try:
        import ciw  # noqa: F401
    except ImportError:
        return False
    return True


def ciw_mm3(horizon: float, seed: int, service_rate: float = MM3_SERVICE_RATE) -> tuple[int, float]:
    """The M/M/3 flow in Ciw. Returns (items done, mean lead time)."""
    import ciw

    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=service_rate)],
        number_of_servers=[MM3_SERVERS],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(horizon)
    records = simulation.get_all_records()
    count = len(records)
    total = sum(r.exit_date - r.arrival_date for r in records)
    return count, (total / count if count else math.nan)


def erlang_c_lead_time(
    arrival_rate: float = MM3_LOAD * MM3_SERVERS * MM3_SERVICE_RATE,
    service_rate: float = MM3_SERVICE_RATE,
    servers: int = MM3_SERVERS,
) -> float:
    """Mean time in system of the M/M/3 flow (Erlang C), to check the models above."""
    return mmc_lead_time(arrival_rate, service_rate, servers)


# --------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------


def posim_case(
    scenario: Any, seed: int = 1, keep_records: bool = False
) -> Callable[[], tuple[int, float]]:
    """A timed case: ``posim.engine.simulate`` of ``scenario`` (without records by default)."""
    from posim.engine import simulate

    def case() -> tuple[int, float]:
        result = simulate(scenario, strategy="fifo", seed=seed, keep_records=keep_records)
        lead = result.metrics["lead_time_mean"]
        return int(result.metrics["items_done"] or 0), (math.nan if lead is None else lead)

    return case


def interleaved(
    cases: dict[str, Callable[[], tuple[int, float]]], repeats: int
) -> dict[str, dict[str, Any]]:
    """Time every case ``repeats`` times in alternation (forward, then backward order).

    Each case's figure is its best (least disturbed) time.
    """
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    outcome: dict[str, tuple[int, float]] = {}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            outcome[name] = cases[name]()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    report = {}
    for name in names:
        best = min(times[name])
        items, lead = outcome[name]
        report[name] = {
            "items": items,
            "lead_time_mean": None if math.isnan(lead) else round(lead, 4),
            "best_s": round(best, 6),
            "times_s": [round(t, 6) for t in times[name]],
            "items_per_s": round(items / best, 1) if best > 0 else None,
            "best_cpu_s": round(min(cpu[name]), 6),
            "items_per_cpu_s": round(items / min(cpu[name]), 1) if min(cpu[name]) > 0 else None,
        }
    return report


@dataclass(frozen=True)
class ChildRun:
    """One finished child process."""

    seconds: float
    cpu_seconds: float
    max_rss_kib: int
    stdout: bytes


LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump([os.waitstatus_to_exitcode(status), seconds, usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss], out)
"""
"""Runs a command and writes its exit code, wall time, CPU time and peak RSS.

A small go-between: on Linux a child's peak RSS starts at the RSS of the
process it was forked from, and the benchmark's own process is large.
"""


def run_child(command: Sequence[str]) -> ChildRun:
    """Run a command to the end: its wall time, CPU time and peak RSS (``wait4``).

    CPU time and peak RSS include the child's own children once it has waited
    for them (the workers of a process pool).  The command runs under
    :data:`LAUNCHER`, so its peak RSS is its own, not the benchmark's.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        figures = Path(tmp) / "figures.json"
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(figures), *command],
            stdout=out,
            stderr=err,
            check=False,
        )
        code, seconds, cpu, max_rss = json.loads(figures.read_text())
        if code != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{' '.join(command)} exited {code}: {message}")
        out.seek(0)
        return ChildRun(seconds, cpu, int(max_rss), out.read())


def posim_command() -> list[str]:
    """The ``posim`` console script next to this Python, or ``python -m posim``."""
    script = Path(sys.executable).with_name("posim")
    if script.exists():
        return [str(script)]
    found = shutil.which("posim")
    return [found] if found else [sys.executable, "-m", "posim"]


# --------------------------------------------------------------------------
# The parts of the report
# --------------------------------------------------------------------------


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
    """``ratio_<key>``: items per CPU second of ``mine`` over ``other``; ``wall_ratio_<key>``."""

    def ratio(rate: str) -> float | None:
        if not timed[mine][rate] or not timed[other][rate]:
            return None
        return round(timed[mine][rate] / timed[other][rate], 3)

    return {f"ratio_{key}": ratio("items_per_cpu_s"), f"wall_ratio_{key}": ratio("items_per_s")}


def _linearity(timed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Time of the twice-as-big run over the time of the base run (CPU, and wall)."""
    double, single = timed["posim_2x"], timed["posim"]
    return {
        "linear_ratio": round(double["best_cpu_s"] / single["best_cpu_s"], 3)
        if single["best_cpu_s"]
        else None,
        "wall_linear_ratio": round(double["best_s"] / single["best_s"], 3),
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


def bench_replications(sizes: Sizes, workdir: Path, repeats: int) -> dict[str, Any]:
    """``--jobs 1`` against ``--jobs 2``: the tutorial (light), the scaled tutorial (heavy)."""
    return {
        "tutorial": bench_jobs(
            "tutorial (built-in, 40 days)",
            tutorial_document(),
            sizes.replication_runs,
            workdir,
            repeats,
        ),
        "heavy": bench_jobs(
            f"tutorial, 3x the requests, horizon {sizes.heavy_horizon:g} days",
            tutorial_scaled(sizes.heavy_horizon),
            sizes.heavy_runs,
            workdir,
            repeats,
        ),
    }


def bench_jobs(
    title: str, document: dict[str, Any], runs: int, workdir: Path, repeats: int
) -> dict[str, Any]:
    """``posim run FILE --runs R --jobs 1`` against ``--jobs 2`` (the whole command, wall time)."""
    path = workdir / f"{document['name']}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    base = [*posim_command(), "run", str(path), "--runs", str(runs), "--json"]
    times: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    outputs: dict[int, Any] = {}
    for repeat in range(repeats):
        for jobs in (1, 2) if repeat % 2 == 0 else (2, 1):
            child = run_child([*base, "--jobs", str(jobs)])
            times[jobs].append(child.seconds)
            cpu[jobs].append(child.cpu_seconds)
            outputs[jobs] = json.loads(child.stdout)["runs"]
    best = {jobs: min(values) for jobs, values in times.items()}

    def side(jobs: int) -> dict[str, Any]:
        return {
            "best_s": round(best[jobs], 3),
            "replications_per_s": round(runs / best[jobs], 2),
            "times_s": [round(t, 3) for t in times[jobs]],
            "cpu_s": round(min(cpu[jobs]), 3),
        }

    return {
        "scenario": title,
        "command": f"posim run {path.name} --runs {runs} --jobs J --json",
        "runs": runs,
        "jobs_1": side(1),
        "jobs_2": side(2),
        "speedup": round(best[1] / best[2], 3),
        "identical_output": outputs[1] == outputs[2],
        "cores": _usable_cores(),
    }


def import_report(arguments: Sequence[str]) -> dict[str, Any]:
    """What ``python -X importtime -m posim ARGS`` imports: Textual? Rich? the slowest."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "posim", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    modules: list[tuple[str, int]] = []
    for line in process.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|", 2)
        name = name[1:] if name.startswith(" ") else name
        modules.append((name.rstrip(), int(cumulative)))
    names = {name.strip() for name, _ in modules}
    top_level = [(name, micros) for name, micros in modules if not name.startswith("  ")]
    top_level.sort(key=lambda pair: -pair[1])

    def loaded(package: str) -> bool:
        return any(n == package or n.startswith(package + ".") for n in names)

    return {
        "modules": len(names),
        "textual": loaded("textual"),
        "rich": loaded("rich"),
        "import_total_s": round(sum(micros for _, micros in top_level) / 1e6, 3),
        "slowest": [
            {"module": name.strip(), "cumulative_s": round(micros / 1e6, 3)}
            for name, micros in top_level[:5]
        ],
    }


def bench_startup(sizes: Sizes) -> dict[str, Any]:
    """Best-of wall time of ``posim --help`` and ``posim run --help``, and their imports."""
    commands = {
        "python_bare": [sys.executable, "-c", "pass"],
        "help": [*posim_command(), "--help"],
        "run_help": [*posim_command(), "run", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(sizes.startup_repeats):
        for name, command in commands.items():
            times[name].append(run_child(command).seconds)
    return {
        "command": " ".join(posim_command()),
        "python_bare_s": round(min(times["python_bare"]), 3),
        "help_s": round(min(times["help"]), 3),
        "run_help_s": round(min(times["run_help"]), 3),
        "imports_help": import_report(["--help"]),
        "imports_run_help": import_report(["run", "--help"]),
    }


def has_compare() -> bool:
    """Whether this posim has ``posim compare``."""
    try:
        run_child([*posim_command(), "compare", "--help"])
    except RuntimeError:
        return False
    return True


def memory_pair(name: str, command: Sequence[str], sizes: Sizes) -> dict[str, Any]:
    """Peak RSS of ``command --runs N`` for the two sizes of N."""
    small, large = sizes.memory_runs
    figures = {runs: run_child([*command, "--runs", str(runs)]) for runs in (small, large)}

    def side(runs: int) -> dict[str, Any]:
        return {
            "runs": runs,
            "max_rss_mib": round(figures[runs].max_rss_kib / 1024, 1),
            "seconds": round(figures[runs].seconds, 2),
        }

    return {
        "command": name,
        "small": side(small),
        "large": side(large),
        "ratio": round(figures[large].max_rss_kib / figures[small].max_rss_kib, 3),
    }


def bench_memory(sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """Peak RSS of ``posim run`` and ``posim compare`` (when it exists) on the tutorial."""
    path = workdir / "tutorial.json"
    path.write_text(json.dumps(tutorial_document()), encoding="utf-8")
    posim = posim_command()
    report: dict[str, Any] = {
        "run": memory_pair(
            "posim run tutorial --jobs 1 --json --runs N",
            [*posim, "run", str(path), "--jobs", "1", "--json"],
            sizes,
        )
    }
    if has_compare():
        report["compare"] = memory_pair(
            "posim compare tutorial --strategy fifo --strategy wsjf --executor serial --json "
            "--runs N",
            [
                *posim,
                "compare",
                str(path),
                "--strategy",
                "fifo",
                "--strategy",
                "wsjf",
                "--executor",
                "serial",
                "--json",
            ],
            sizes,
        )
    else:
        report["compare_note"] = "this posim has no compare command: not measured"
    return report


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


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """The machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("posim", "simpy", "ciw"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": _usable_cores(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def compile_bytecode() -> dict[str, Any]:
    """Compile posim's modules to bytecode first, as an installed package has them.

    Python writes ``__pycache__`` on first import, unless
    ``PYTHONDONTWRITEBYTECODE`` is set (as in some sandboxes and containers):
    then every ``posim`` command and every spawned worker would compile posim
    from source (~25 ms each) and the start-up and ``--jobs`` figures would
    measure the compiler.  Compiling here does not depend on that variable.
    """
    import compileall

    import posim

    package = Path(posim.__file__).resolve().parent
    ok = compileall.compile_dir(str(package), quiet=1)
    return {
        "compiled": bool(ok),
        "package": str(package),
        "dont_write_bytecode_env": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
    }


def source() -> dict[str, Any]:
    """Which posim is measured: its path, the git commit and whether the tree is dirty."""
    import posim

    where = Path(posim.__file__).resolve().parent.parent
    info: dict[str, Any] = {"path": str(where)}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "posim"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info.update(commit=commit, engine_dirty=bool(dirty))
    except (OSError, subprocess.CalledProcessError):
        info.update(commit=None, engine_dirty=None)
    return info


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target against its measured value."""
    flows = report["flows"]
    values: dict[str, Any] = {
        "a_vs_simpy": flows["a_mm3"]["ratio_vs_simpy"],
        "a_vs_ciw": flows["a_mm3"].get("ratio_vs_ciw"),
        "a_linear": flows["a_mm3"]["linear_ratio"],
        "a2_vs_textbook": flows["a2_mm3_reviews"]["ratio_vs_textbook"],
        "a2_vs_ciw": flows["a2_mm3_reviews"].get("ratio_vs_ciw"),
        "a2_records_cost": flows["a2_mm3_reviews"]["records_cost"],
        "b_linear": flows["b_tutorial"]["linear_ratio"],
        "c_linear": flows["c_backlog"]["linear_ratio"],
    }
    if "replications" in report:
        values["jobs_speedup"] = report["replications"]["heavy"]["speedup"]
        values["jobs_speedup_tutorial"] = report["replications"]["tutorial"]["speedup"]
    if "startup" in report:
        values["startup_help_s"] = report["startup"]["help_s"]
        values["startup_run_help_s"] = report["startup"]["run_help_s"]
    if "memory" in report:
        memory = report["memory"]
        values["memory_ratio"] = memory.get("compare", memory["run"])["ratio"]
        values["memory_ratio_run"] = memory["run"]["ratio"]
    out = []
    for name, value in values.items():
        op, bound = TARGETS[name]
        ok = None
        if value is not None:
            ok = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        out.append({"check": name, "value": value, "target": f"{op} {bound:g}", "ok": ok})
    out += report["flows"].get("d_overloaded", {}).get("checks", [])
    out += report.get("team_data", {}).get("checks", [])
    if "startup" in report:
        for path in ("imports_help", "imports_run_help"):
            textual = report["startup"][path]["textual"]
            out.append(
                {
                    "check": f"no_textual_{path}",
                    "value": textual,
                    "target": "False",
                    "ok": not textual,
                }
            )
    return out


def run(
    sizes: Sizes,
    repeats: int,
    *,
    profile: bool = False,
    parts: Sequence[str] = ("flows", "replications", "startup", "memory"),
) -> dict[str, Any]:
    """Run the benchmark; the report as a JSON-ready dict."""
    report: dict[str, Any] = {
        "report": REPORT_VERSION,
        "mode": "tiny" if sizes == TINY else "full",
        "repeats": repeats,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "source": source(),
    }
    report["bytecode"] = compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="posim-bench-") as tmp:
        workdir = Path(tmp)
        if "flows" in parts:
            report["flows"] = {
                "a_mm3": bench_flow_a(sizes, repeats),
                "a2_mm3_reviews": bench_flow_a2(sizes, repeats),
                "b_tutorial": bench_flow_b(sizes, repeats),
                "c_backlog": bench_flow_c(sizes, repeats),
                # (d) and the team-data timings live in benchmarks/flow_d.py (issues 13, 15).
                "d_overloaded": flow_d.bench_flow_d(
                    sizes.mm3_horizon, repeats, interleaved, posim_case, validated
                ),
            }
            report["team_data"] = flow_d.bench_team_data(tiny=sizes == TINY)
        if "replications" in parts:
            report["replications"] = bench_replications(sizes, workdir, min(3, repeats))
        if "startup" in parts:
            report["startup"] = bench_startup(sizes)
        if "memory" in parts:
            report["memory"] = bench_memory(sizes, workdir)
    if profile:
        report["profile"] = bench_profiles(sizes)
    if "flows" in report:
        report["checks"] = checks(report)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    m = report["machine"]
    src = report["source"]
    lines = [
        f"posim benchmark ({report['mode']}, best of {report['repeats']}) — "
        f"{m['cpu']}, {m['usable_cores']} cores, Python {m['python']}, {m['os']}; "
        f"load average {m['load_average'][0]:.2f} at start, "
        f"{m.get('load_average_end', [math.nan])[0]:.2f} at the end",
        f"{report.get('label') or 'posim'}: posim {m['versions']['posim']} at {src['path']} (commit {src.get('commit')}, "
        f"engine {'modified' if src.get('engine_dirty') else 'clean'}); "
        f"simpy {m['versions']['simpy']}, ciw {m['versions']['ciw']}",
        "",
    ]
    flows = report.get("flows")
    if flows:
        lines.append(
            f"{'flow / engine':<34}{'items':>9}{'CPU s':>9}{'items/CPU s':>13}{'wall s':>9}"
            f"{'items/s':>11}{'lead time':>11}"
        )
        for key, flow in flows.items():
            lines.append(f"{key}: {flow['flow']}")
            for name, case in flow["cases"].items():
                lead = case["lead_time_mean"]
                lines.append(
                    f"  {name:<32}{case['items']:>9}{case['best_cpu_s']:>9.3f}"
                    f"{_rate(case['items_per_cpu_s']):>13}{case['best_s']:>9.3f}"
                    f"{_rate(case['items_per_s']):>11}{'-' if lead is None else f'{lead:.3f}':>11}"
                )
        a = flows["a_mm3"]
        lines.append(
            f"  (Erlang C mean lead time of (a): {a['erlang_c_lead_time']:.3f}; "
            f"SimPy floor: {a['simpy_floor']}; by wall time posim/floor "
            f"{a['wall_ratio_vs_simpy']}, posim/ciw {a.get('wall_ratio_vs_ciw')}, "
            f"linearity {a['wall_linear_ratio']})"
        )
        if "ciw_note" in a:
            lines.append(f"  {a['ciw_note']}")
        lines.append("")
    for reps in report.get("replications", {}).values():
        lines.append(f"replications: {reps['runs']} runs of {reps['scenario']}")
        for jobs in ("jobs_1", "jobs_2"):
            lines.append(
                f"  --{jobs.replace('_', ' ')}: {reps[jobs]['best_s']:.2f} s, "
                f"{reps[jobs]['replications_per_s']:.1f} replications/s, "
                f"CPU {reps[jobs]['cpu_s']:.2f} s"
            )
        lines.append(
            f"  speed-up {reps['speedup']:.2f}x on {reps['cores']} cores; "
            f"identical output: {reps['identical_output']}"
        )
        lines.append("")
    start = report.get("startup")
    if start:
        lines.append(
            f"start-up (best of {report.get('startup_repeats', '')}): python -c pass "
            f"{start['python_bare_s']:.3f} s, posim --help {start['help_s']:.3f} s, "
            f"posim run --help {start['run_help_s']:.3f} s"
        )
        for path in ("imports_help", "imports_run_help"):
            imp = start[path]
            slow = ", ".join(f"{s['module']} {s['cumulative_s']:.3f}" for s in imp["slowest"][:3])
            lines.append(
                f"  {path}: {imp['modules']} modules, textual={imp['textual']}, "
                f"rich={imp['rich']}, imports {imp['import_total_s']:.3f} s ({slow})"
            )
        lines.append("")
    for key in ("run", "compare"):
        mem = report.get("memory", {}).get(key)
        if mem:
            lines.append(
                f"memory ({mem['command']}): {mem['small']['runs']} runs "
                f"{mem['small']['max_rss_mib']} MiB, {mem['large']['runs']} runs "
                f"{mem['large']['max_rss_mib']} MiB, ratio {mem['ratio']:.2f}"
            )
    if "compare_note" in report.get("memory", {}):
        lines.append(f"memory: {report['memory']['compare_note']}")
    lines.append("")
    if "checks" in report:
        lines.append(f"{'check':<26}{'value':>10}  {'target':<10}ok")
        for check in report["checks"]:
            ok = {True: "yes", False: "NO", None: "-"}[check["ok"]]
            lines.append(f"{check['check']:<26}{check['value']!s:>10}  {check['target']:<10}{ok}")
    for key, prof in report.get("profile", {}).items():
        lines.append("")
        lines.append(
            f"profile {key}: {prof['items']} items, {prof['profiled_s']:.2f} s profiled, "
            f"{prof['calls']:,} calls; top by own time"
        )
        for row in prof["by_own_time"]:
            lines.append(
                f"  {row['own_s']:>8.3f} s {row['own_share']:>6.1%} {row['calls']:>9} "
                f"{row['function']}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, help="write the JSON report to this file")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repeats per case, best kept (default 5; tiny: 1)",
    )
    parser.add_argument("--profile", action="store_true", help="add cProfile tables of (a)-(c)")
    parser.add_argument("--tiny", action="store_true", help="toy sizes (a smoke test)")
    parser.add_argument("--label", default="", help="a note kept in the report (e.g. before/after)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["flows", "replications", "startup", "memory"],
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args(argv)
    sizes = TINY if args.tiny else FULL
    repeats = args.repeats if args.repeats is not None else (1 if args.tiny else 5)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    parts = args.only or ["flows", "replications", "startup", "memory"]
    report = run(sizes, repeats, profile=args.profile, parts=parts)
    report["startup_repeats"] = sizes.startup_repeats
    report["label"] = args.label
    print(format_report(report))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nreport written to {args.out}")
    return 0
