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

This module is the entry: :func:`run` assembles the report from the parts,
:func:`main` parses the flags.  The parts, each a module of ``benchmarks/``:

* :mod:`~benchmarks.sizes`: how big each part is (full, ``--tiny``);
* :mod:`~benchmarks.scenarios`: the scenario documents of flows (a)-(c);
* :mod:`~benchmarks.references`: the M/M/3 flow in bare SimPy and Ciw, and its
  Erlang C lead time (:mod:`~benchmarks.queueing`);
* :mod:`~benchmarks.timing`: cases timed in alternation, child processes;
* :mod:`~benchmarks.flows`: flows (a), (a'), (b), (c);
* :mod:`~benchmarks.flow_d`: flow (d), ``posim forecast`` and ``posim calibrate``;
* :mod:`~benchmarks.commands`: replications and ``--jobs``, start-up, memory;
* :mod:`~benchmarks.profiles`: ``--profile``;
* :mod:`~benchmarks.machine`: the machine, the source measured, its bytecode;
* :mod:`~benchmarks.report`: the targets, the checks and the printed table.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import flow_d
from benchmarks.commands import bench_memory, bench_replications, bench_startup
from benchmarks.flows import bench_flow_a, bench_flow_a2, bench_flow_b, bench_flow_c
from benchmarks.machine import compile_bytecode, machine, source
from benchmarks.profiles import bench_profiles
from benchmarks.report import REPORT_VERSION, checks, format_report
from benchmarks.sizes import FULL, TINY, Sizes


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
                "d_overloaded": flow_d.bench_flow_d(sizes.mm3_horizon, repeats),
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
