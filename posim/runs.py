"""Headless replications: run one scenario with one strategy many times.

:func:`run_replications` runs replication ``r = 0 .. runs-1`` with the seed
:func:`posim.engine.randomness.replication_seed` ``(root, r)``: every
replication, including the only one of a single run, uses a derived seed, so
replication ``r`` gets the same luck whatever the strategy (common random
numbers) and whatever ``runs`` is.  (:func:`posim.simulate` with ``seed=s``
uses ``s`` itself; ``posim run --seed s`` reports the derived seed of each
replication.)

With ``jobs > 1`` replications are shared between this process and
``jobs - 1`` spawned workers (:func:`posim.executors.run_ordered`: this
process starts at once, workers take batches that shrink as the work runs
out); results come back in replication order and are reduced in that order,
so the output is identical for any number of jobs.  Ctrl-C stops the workers
at once.

:class:`RunWriter` writes a run's files (``runs.csv``, ``items.csv``,
``events.jsonl``, ``run.json``, and replication 0's ``flow.csv``, see
:mod:`posim.flowcsv`) while the replications arrive, so records never pile up
in memory.  A folder being written holds a ``PARTIAL`` file until
``runs.csv`` and ``run.json`` are in place, and the results of an earlier run
there are removed first: a folder is either one complete run or marked
partial, never a mix of two runs.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from posim import stats
from posim.engine import METRIC_NAMES, item_fields, simulate
from posim.engine.randomness import replication_seed
from posim.engine.strategies import StrategySpec, parse_spec, resolve_ordering
from posim.executors import run_ordered, worker_count
from posim.flowcsv import DEFAULT_START, FLOW_CSV, write_flow_csv

if TYPE_CHECKING:
    from posim.engine.records import Record
    from posim.scenario import Scenario

MAX_RUNS = 1_000_000
"""Most replications one call may run."""

JOBS_PER_CORE = 4
"""``--jobs`` may ask for at most this many worker processes per core."""


def check_jobs(jobs: int) -> None:
    """Refuse a ``jobs`` below 0 or above :data:`JOBS_PER_CORE` times the cores.

    Raises:
        ValueError: with a one-line message.
    """
    if jobs < 0:
        raise ValueError(f"--jobs must be >= 0 (0 = every core), got {jobs}")
    limit = JOBS_PER_CORE * (os.cpu_count() or 1)
    if jobs > limit:
        raise ValueError(
            f"--jobs {jobs}: at most {limit} ({JOBS_PER_CORE} per core on this machine's "
            f"{os.cpu_count() or 1}); 0 uses every core"
        )


SUMMARY_KEYS = ("mean", "ci95", "p50", "p85")
"""Keys of each metric's summary in the JSON document (DESIGN section 6)."""

Metrics = dict[str, float | None]
"""One run's metrics, keyed by :data:`posim.engine.METRIC_NAMES`, in that order."""


@dataclass(frozen=True)
class Replication:
    """The outcome of one replication."""

    replication: int
    """Index of the replication (0-based)."""
    seed: int
    """Root seed the engine ran it with (``replication_seed(root, replication)``)."""
    metrics: Metrics
    """Its metrics (``None`` = no value in this run)."""
    items: list[dict[str, Any]] = field(default_factory=list)
    """One row per item with every timestamp (only with ``keep_records=True``)."""
    records: list[Record] = field(default_factory=list)
    """The event records (only with ``keep_records=True``)."""
    score: dict[str, Any] = field(default_factory=dict)
    """The score term by term: ``total``, ``grade`` and ``terms`` (see :func:`score_json`)."""


def score_json(score: Any, explain: bool = True) -> dict[str, Any]:
    """A :class:`posim.engine.scoring.Score` as JSON: total, grade, and each term.

    Without ``explain`` (many replications) only the total and the grade, so
    memory stays flat over thousands of runs.
    """
    if not explain:
        return {"total": score.total, "grade": score.grade}
    terms = []
    for term in score.terms:
        terms.append(
            {
                "name": term.name,
                "measured": term.measured,
                "value": term.value,
                "weight": term.weight,
                "points": term.points,
                "explanation": term.explanation,
            }
        )
    return {"total": score.total, "grade": score.grade, "terms": terms}


@dataclass(frozen=True)
class RunResult:
    """Every replication of a run, and the summary of each metric across them."""

    scenario: str
    """Scenario name."""
    strategy: str
    """Ordering strategy (``wsjf``, ``file.py:Class``, ...)."""
    reporting: str
    """Reporting policy (``honest``, ``optimistic``, ``green``)."""
    seed: int
    """Root seed of the run."""
    runs: list[Replication]
    """The replications in order."""
    summary: dict[str, dict[str, Any]]
    """Per metric: ``mean``, ``ci95`` (``[lo, hi]``), ``p50``, ``p85`` (``None`` when no run had a value)."""

    def values(self, metric: str) -> list[float | None]:
        """The metric's value in every replication, in replication order."""
        return [run.metrics[metric] for run in self.runs]

    def to_json(self, version: str) -> dict[str, Any]:
        """The ``posim run --json`` document (DESIGN section 6); ``version`` is posim's."""
        return {
            "posim": version,
            "scenario": self.scenario,
            "strategy": self.strategy,
            "reporting": self.reporting,
            "seed": self.seed,
            "runs": [
                {
                    "replication": run.replication,
                    "seed": run.seed,
                    "metrics": {
                        name: _finite_or_none(value) for name, value in run.metrics.items()
                    },
                    "score": _finite_or_none(run.score),
                }
                for run in self.runs
            ],
            "summary": _finite_or_none(self.summary),
            "grades": self.grades(),
        }

    def grades(self) -> dict[str, int]:
        """How many replications got each grade (A..F), best first."""
        counts = {grade: 0 for grade in ("A", "B", "C", "D", "F")}
        for run in self.runs:
            if run.score:
                counts[run.score["grade"]] += 1
        return counts


def summarise(values: Sequence[float | None]) -> dict[str, Any]:
    """Summary of one metric across replications: ``mean``, ``ci95``, ``p50``, ``p85``.

    ``None`` values are skipped; when every value is ``None`` every entry is ``None``.
    The CI is Student-t at 95 % (``[v, v]`` for a single value).
    """
    full = stats.summary(values)
    return {key: full[key] for key in SUMMARY_KEYS}


def _finite_or_none(value: Any) -> Any:
    """``value`` with NaN and infinities (which JSON cannot hold) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_none(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(inner) for inner in value]
    return value


def dumps_json(document: Any) -> str:
    """A JSON document as posim prints and writes it (indented, newline-terminated)."""
    return json.dumps(_finite_or_none(document), indent=2, allow_nan=False) + "\n"


@dataclass(frozen=True)
class _Unit:
    """One replication to run (picklable: it travels to worker processes)."""

    scenario: Scenario
    ordering: str
    reporting: str
    replication: int
    seed: int
    keep_records: bool
    explain: bool = False
    """Keep the score's terms (a single run's breakdown); many runs keep total and grade."""


def _simulate_unit(unit: _Unit) -> Replication:
    """Run one replication (in a worker or in this process)."""
    result = simulate(
        unit.scenario,
        strategy=unit.ordering,
        reporting=unit.reporting,
        seed=unit.seed,
        keep_records=unit.keep_records,
    )
    return Replication(
        replication=unit.replication,
        seed=unit.seed,
        metrics=dict(result.metrics),
        items=list(result.items) if unit.keep_records else [],
        records=list(result.records) if unit.keep_records else [],
        score=score_json(result.score, explain=unit.explain),
    )


def check_run_options(
    strategy: str, reporting: str = "honest", runs: int = 1, jobs: int = 1
) -> StrategySpec:
    """Check a run's options before anything runs; the parsed strategy spec.

    A custom strategy (``file.py:Class``) is imported here, so its errors show
    up at once rather than inside a worker process.

    Raises:
        ValueError: with a one-line message, for an unknown strategy or
            reporting policy, or ``runs``/``jobs`` out of range (``jobs`` at most
            :data:`JOBS_PER_CORE` per core).
    """
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"--runs must be between 1 and {MAX_RUNS}, got {runs}")
    check_jobs(jobs)
    spec = parse_spec(strategy, reporting)
    resolve_ordering(spec.ordering)
    return spec


def run_replications(
    scenario: Scenario,
    strategy: str = "fifo",
    reporting: str = "honest",
    seed: int | None = None,
    runs: int = 1,
    jobs: int = 1,
    keep_records: bool = False,
    progress: Callable[[int], None] | None = None,
    on_replication: Callable[[Replication], None] | None = None,
) -> RunResult:
    """Run ``runs`` replications of ``scenario`` and summarise every metric.

    Args:
        scenario: the validated scenario.
        strategy: an ``ORDERING[+REPORTING]`` spec (``wsjf``, ``wsjf+green``,
            ``my_po.py:Cautious``); a reporting part overrides ``reporting``.
        reporting: the reporting policy when the spec names none.
        seed: root seed (default: the scenario's ``seed``); replication ``r``
            runs with ``replication_seed(seed, r)``.
        runs: number of replications (1 .. :data:`MAX_RUNS`).
        jobs: worker processes; 1 runs in this process, 0 uses every core.
        keep_records: keep each replication's event records and item rows.
        progress: called with the number of replications just finished.
        on_replication: called with each replication, in replication order, as
            soon as it (and every one before it) is done.  When given, the
            returned replications carry metrics only, so records and items do
            not accumulate in memory.

    Raises:
        ValueError: a bad ``runs``/``jobs`` value or an unknown strategy or
            reporting policy (:class:`posim.engine.strategies.StrategyError`).
    """
    spec = check_run_options(strategy, reporting, runs, jobs)
    root = scenario.seed if seed is None else seed
    units = [
        _Unit(
            scenario,
            spec.ordering,
            spec.reporting,
            r,
            replication_seed(root, r),
            keep_records,
            explain=runs == 1,
        )
        for r in range(runs)
    ]
    workers = min(worker_count(jobs), runs)
    outcomes = run_ordered(
        _simulate_unit,
        units,
        executor="serial" if workers <= 1 else "process",
        jobs=workers,
        progress=progress,
    )
    collected: list[Replication] = []
    for replication in outcomes:
        if on_replication is not None:
            on_replication(replication)
            replication = replace(replication, items=[], records=[])
        collected.append(replication)

    summary = {name: summarise([r.metrics.get(name) for r in collected]) for name in METRIC_NAMES}
    return RunResult(
        scenario=scenario.name,
        strategy=spec.ordering,
        reporting=spec.reporting,
        seed=root,
        runs=collected,
        summary=summary,
    )


RUNS_CSV = "runs.csv"
"""One row per replication: replication, seed, every metric."""
ITEMS_CSV = "items.csv"
"""One row per item of every replication, with every timestamp."""
EVENTS_JSONL = "events.jsonl"
"""The event records of every replication, one JSON object per line."""
RUN_JSON = "run.json"
"""The ``posim run --json`` document."""
PARTIAL_FILE = "PARTIAL"
"""Marks a folder whose results are incomplete (interrupted, or still being written)."""


def _cell(value: Any) -> Any:
    """A CSV cell: ``None`` is empty, containers are JSON, the rest as is."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return json.dumps(_finite_or_none(value), separators=(",", ":"))
    return value


class RunWriter:
    """Writes a run's files into a folder while its replications arrive.

    Use as a context manager; pass :meth:`add` as ``on_replication`` to
    :func:`run_replications` (with ``keep_records=True``), then call
    :meth:`finish` with the result::

        with RunWriter(out_dir, scenario) as writer:
            result = run_replications(..., keep_records=True, on_replication=writer.add)
            writer.finish(result, posim.__version__)
    """

    def __init__(
        self,
        out_dir: Path | str,
        scenario: Scenario,
        runs: int | None = None,
        start_date: dt.date = DEFAULT_START,
    ) -> None:
        self.out_dir = Path(out_dir)
        """The folder written to (created if missing)."""
        self.scenario = scenario
        """The scenario being run (its columns name the ``entered_<column>`` item fields)."""
        self.runs = runs
        """Replications asked for (said in the ``PARTIAL`` file), when known."""
        self.added = 0
        """Replications written so far."""
        self.finished = False
        """True once :meth:`finish` has written ``runs.csv`` and ``run.json``."""
        self.start_date = start_date
        """Day 0's date in ``flow.csv`` (a Monday)."""
        self._items_file: IO[str] | None = None
        self._events_file: IO[str] | None = None
        self._items: Any = None
        self._item_fields: tuple[str, ...] = ()

    def __enter__(self) -> RunWriter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Marked first, then an earlier run's results go: a folder never shows
        # an old run.json beside new rows, whenever this process stops.
        self._mark(
            "incomplete: posim run has not finished writing here (still running, or "
            "killed); runs.csv and run.json are written only by a complete run"
        )
        for stale in (RUNS_CSV, RUN_JSON, FLOW_CSV):
            (self.out_dir / stale).unlink(missing_ok=True)
        self._items_file = open(self.out_dir / ITEMS_CSV, "w", encoding="utf-8", newline="")
        self._events_file = open(self.out_dir / EVENTS_JSONL, "w", encoding="utf-8")
        self._item_fields = ("replication", *item_fields(self.scenario.activities))
        self._items = csv.writer(self._items_file, lineterminator="\n")
        self._items.writerow(self._item_fields)
        return self

    def _mark(self, text: str) -> None:
        _write_atomically(self.out_dir / PARTIAL_FILE, text + "\n")

    def add(self, replication: Replication) -> None:
        """Append one replication's items and event records."""
        if self._items is None or self._events_file is None:
            raise RuntimeError("RunWriter.add outside its with block")
        number = replication.replication
        if number == 0:
            columns = self.scenario.activities
            write_flow_csv(self.out_dir / FLOW_CSV, replication.items, columns, self.start_date)
        for row in replication.items:
            self._items.writerow(
                [number, *(_cell(row.get(name)) for name in self._item_fields[1:])]
            )
        for record in replication.records:
            line = {"replication": number, **record._asdict()}
            self._events_file.write(
                json.dumps(_finite_or_none(line), separators=(",", ":"), allow_nan=False) + "\n"
            )
        self.added += 1

    def finish(self, result: RunResult, version: str) -> None:
        """Write ``runs.csv`` and ``run.json`` for the whole run, then drop the ``PARTIAL`` mark."""
        for handle in (self._items_file, self._events_file):
            if handle is not None:
                handle.flush()
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow(["replication", "seed", *METRIC_NAMES])
        for run in result.runs:
            writer.writerow(
                [run.replication, run.seed, *(_cell(run.metrics.get(n)) for n in METRIC_NAMES)]
            )
        _write_atomically(self.out_dir / RUNS_CSV, rows.getvalue())
        _write_atomically(self.out_dir / RUN_JSON, dumps_json(result.to_json(version)))
        (self.out_dir / PARTIAL_FILE).unlink(missing_ok=True)
        self.finished = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for handle in (self._items_file, self._events_file):
            if handle is not None:
                handle.close()
        self._items_file = self._events_file = None
        self._items = None
        if not self.finished and self._item_fields:
            why = "interrupted" if exc_type is KeyboardInterrupt else "stopped"
            of = "" if self.runs is None else f" of {self.runs}"
            with contextlib.suppress(OSError):  # if so, the mark written at the start stays
                self._mark(
                    f"{why}: {self.added}{of} replications finished; items.csv and "
                    "events.jsonl hold the finished ones (runs.csv and run.json are written "
                    "only by a complete run)"
                )


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it (readers see old or new)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8", newline="")
    os.replace(temporary, path)
