"""posim's commands timed whole, each in a child process.

Replications (``posim run --runs R`` with ``--jobs 1`` against ``--jobs 2``),
start-up (``posim --help``, ``posim run --help`` and what they import) and peak
memory (``posim run`` and ``posim compare`` at two numbers of runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.machine import usable_cores
from benchmarks.scenarios import tutorial_document, tutorial_scaled
from benchmarks.sizes import Sizes
from benchmarks.timing import posim_command, run_child


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
        "cores": usable_cores(),
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
