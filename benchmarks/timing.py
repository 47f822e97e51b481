"""How the benchmark times things.

In-process cases (:func:`posim_case`, timed in alternation by
:func:`interleaved`, best of the repeats) and whole commands in a child process
(:func:`run_child`: wall time, CPU time and peak RSS through :data:`LAUNCHER`).
"""

from __future__ import annotations

import gc
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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

    Each case's figure is its best (least disturbed) time; every repeat's wall
    and CPU times are kept too (``times_s``, ``cpu_times_s``), for the paired
    ratios of :func:`paired_ratio`.
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
            "cpu_times_s": [round(t, 6) for t in cpu[name]],
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


def paired_ratio(timed: dict[str, dict[str, Any]], mine: str, other: str) -> float | None:
    """Median over the repeats of ``mine``'s items per CPU second over ``other``'s.

    The two cases of one repeat ran back to back (:func:`interleaved`), so a
    disturbance of the machine that lasts a few seconds touches both: on a
    shared host, whose figures move by a fifth from run to run, the median of
    these ratios moves less than the ratio of the two best times.
    """
    a, b = timed[mine], timed[other]
    ratios = [
        (a["items"] / ta) / (b["items"] / tb)
        for ta, tb in zip(a["cpu_times_s"], b["cpu_times_s"], strict=True)
        if ta > 0 and tb > 0 and b["items"] > 0
    ]
    return round(statistics.median(ratios), 3) if ratios else None


def paired_time_ratio(timed: dict[str, dict[str, Any]], mine: str, other: str) -> float | None:
    """Median over the repeats of ``mine``'s CPU time over ``other``'s (timed back to
    back): a linearity check's steadier partner (see :func:`paired_ratio`)."""
    ratios = [
        ta / tb
        for ta, tb in zip(timed[mine]["cpu_times_s"], timed[other]["cpu_times_s"], strict=True)
        if tb > 0
    ]
    return round(statistics.median(ratios), 3) if ratios else None
