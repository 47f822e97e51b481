"""Executors: where replications run — in this process, on local cores, or on a Dask cluster.

One seam, :func:`run_ordered`, takes a top-level (picklable) function and a
list of work units and yields ``function(unit)`` for every unit **in unit
order**, whichever executor runs them and however many workers it has:

* ``serial`` — one unit after another in this process (no pickling at all);
* ``process`` — a ``multiprocessing`` pool in the ``spawn`` context (the
  default; ``jobs=0`` uses every core).  Workers ignore Ctrl+C, so only this
  process hears it and can stop the pool cleanly;
* ``dask`` — a ``distributed`` cluster (the ``dask`` extra).  Without a
  scheduler address a ``LocalCluster`` of ``jobs`` worker processes listens on
  127.0.0.1 with its dashboard off; with ``scheduler="tcp://host:port"`` it
  connects to a running cluster and first checks that every worker runs the
  same posim version as this process.

Units travel in batches (several per task, a few tasks per worker), so the
per-task overhead stays small.  Each batch's results are keyed by its index
and handed on in index order, so a caller that reduces them in the order it
receives them gets byte-identical output for every executor and job count.
Nothing here knows about simulations: :mod:`posim.comparison` and
:mod:`posim.runs` supply the functions and units.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "DEFAULT_EXECUTOR",
    "EXECUTORS",
    "ExecutorError",
    "check_executor",
    "check_worker_versions",
    "run_ordered",
    "worker_count",
]

Unit = TypeVar("Unit")
Outcome = TypeVar("Outcome")

EXECUTORS = ("serial", "process", "dask")
"""The executor names accepted by ``--executor``."""

DEFAULT_EXECUTOR = "process"
"""The executor used when none is named."""

TASKS_PER_WORKER = 4
"""Batches per worker: enough to balance the load, few enough to keep the overhead low."""

MAX_BATCH = 256
"""Most units in one batch (so progress moves and an interrupt loses little)."""

CONNECT_TIMEOUT = "10s"
"""How long to wait for a Dask scheduler given by ``--scheduler``."""

DASK_HINT = "the dask executor needs dask.distributed: pip install 'posim[dask]'"
"""What to do when ``--executor dask`` is asked for without the extra."""


class ExecutorError(ValueError):
    """An executor cannot be used as asked (one line, for the command line)."""


def worker_count(jobs: int) -> int:
    """Worker processes for ``jobs``: ``0`` means every core."""
    if jobs < 0:
        raise ExecutorError(f"--jobs must be >= 0 (0 = every core), got {jobs}")
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def check_executor(executor: str, jobs: int = 0, scheduler: str | None = None) -> None:
    """Check the executor options before anything runs.

    Raises:
        ExecutorError: an unknown executor, a negative ``jobs``, a scheduler
            address without ``--executor dask`` or not of the form
            ``tcp://host:port``, or the dask executor without its extra.
    """
    if executor not in EXECUTORS:
        raise ExecutorError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    worker_count(jobs)
    if scheduler is not None:
        if executor != "dask":
            raise ExecutorError("--scheduler needs --executor dask")
        scheme, _, rest = scheduler.partition("://")
        host, _, port = rest.rpartition(":")
        if scheme not in ("tcp", "tls") or not host or not port.isdigit():
            raise ExecutorError(
                f"--scheduler {scheduler!r}: expected tcp://host:port (e.g. tcp://127.0.0.1:8786)"
            )
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ExecutorError(DASK_HINT) from None


def check_worker_versions(versions: dict[str, Any], expected: str) -> None:
    """Check that every Dask worker runs posim ``expected``.

    ``versions`` maps worker addresses to what each reported (a version
    string, or an exception when posim could not be imported there).

    Raises:
        ExecutorError: no workers, or a worker with another (or no) posim.
    """
    if not versions:
        raise ExecutorError("the Dask cluster has no workers")
    wrong = {address: found for address, found in versions.items() if found != expected}
    if wrong:
        listed = ", ".join(f"{address} has {found}" for address, found in sorted(wrong.items()))
        raise ExecutorError(
            f"every Dask worker must run posim {expected} like this machine: {listed}"
        )


def _batches(units: Sequence[Unit], workers: int) -> list[list[Unit]]:
    """Consecutive batches of units, about :data:`TASKS_PER_WORKER` per worker."""
    size = max(1, min(MAX_BATCH, math.ceil(len(units) / (workers * TASKS_PER_WORKER))))
    return [list(units[start : start + size]) for start in range(0, len(units), size)]


def _run_batch(
    index: int, function: Callable[[Unit], Outcome], batch: Sequence[Unit]
) -> tuple[int, list[Outcome]]:
    """Run one batch (in a worker or in this process); keyed by its index."""
    return index, [function(unit) for unit in batch]


def _ignore_interrupts() -> None:
    """Pool worker initializer: leave Ctrl+C to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _children_ignore_interrupts() -> Iterator[None]:
    """Ignore Ctrl+C while starting worker processes, so they inherit ignoring it.

    An ignored signal stays ignored in a spawned child, and Python then
    installs no KeyboardInterrupt handler there: a Ctrl+C in the terminal
    reaches only this process, which stops the workers itself (instead of
    every worker printing a traceback).  Only the main thread may do this.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _without_main_script(function: Callable[..., Any]) -> Iterator[None]:
    """Start ``spawn`` workers without re-running the user's ``__main__`` script.

    A spawned worker normally imports the parent's main script first, so a
    script that calls :func:`posim.compare` at top level, without an
    ``if __name__ == "__main__":`` guard, would run again in every worker and
    break the pool.  The work functions live in posim's own modules, so the
    workers need nothing from ``__main__``: while they start, the main module
    does not say where it came from.  (A ``function`` defined in ``__main__``
    itself keeps the usual behaviour.)
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(function, "__module__", None) == "__main__":
        yield
        return
    saved: dict[str, Any] = {
        name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _posim_version() -> str:
    """``posim.__version__`` where this runs (sent to Dask workers).

    Imported by name: the package's ``__init__`` names every layer, and this
    lower layer must not import it statically.
    """
    return str(importlib.import_module("posim").__version__)


def _in_order(
    finished: Iterator[tuple[int, list[Outcome]]],
    progress: Callable[[int], None] | None,
) -> Iterator[Outcome]:
    """Yield the outcomes of batches that finish in any order, in batch order."""
    waiting: dict[int, list[Outcome]] = {}
    next_index = 0
    for index, outcomes in finished:
        if progress is not None:
            progress(len(outcomes))
        waiting[index] = outcomes
        while next_index in waiting:
            yield from waiting.pop(next_index)
            next_index += 1


def _serial(
    function: Callable[[Unit], Outcome],
    units: Sequence[Unit],
    progress: Callable[[int], None] | None,
) -> Iterator[Outcome]:
    for unit in units:
        outcome = function(unit)
        if progress is not None:
            progress(1)
        yield outcome


def _process(
    function: Callable[[Unit], Outcome],
    batches: list[list[Unit]],
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[Outcome]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_ignore_interrupts
    )
    finished_cleanly = False
    try:
        with _without_main_script(function):  # workers start during the first submits
            pending: set[Future[tuple[int, list[Outcome]]]] = {
                pool.submit(_run_batch, index, function, batch)
                for index, batch in enumerate(batches)
            }

        def finished() -> Iterator[tuple[int, list[Outcome]]]:
            nonlocal pending
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=id):
                    yield future.result()

        yield from _in_order(finished(), progress)
        finished_cleanly = True
    finally:
        if finished_cleanly:
            pool.shutdown(wait=True)
        else:  # interrupted, closed early or failed: stop the workers now
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)


def _dask(
    function: Callable[[Unit], Outcome],
    batches: list[list[Unit]],
    workers: int,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
) -> Iterator[Outcome]:
    try:
        dask: Any = importlib.import_module("distributed")  # untyped: keep it Any
    except ImportError:
        raise ExecutorError(DASK_HINT) from None

    cluster: Any = None
    client: Any = None
    try:
        if scheduler is None:
            with _children_ignore_interrupts(), _without_main_script(function):
                cluster = dask.LocalCluster(
                    host="127.0.0.1",
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            client = dask.Client(cluster)
        else:
            try:
                client = dask.Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as error:
                raise ExecutorError(f"--scheduler {scheduler}: cannot connect ({error})") from None
            check_worker_versions(client.run(_posim_version, on_error="return"), _posim_version())
        futures = [
            client.submit(_run_batch, index, function, batch, pure=False)
            for index, batch in enumerate(batches)
        ]
        finished = (result for _, result in dask.as_completed(futures, with_results=True))
        yield from _in_order(finished, progress)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def run_ordered(
    function: Callable[[Unit], Outcome],
    units: Sequence[Unit],
    *,
    executor: str = DEFAULT_EXECUTOR,
    jobs: int = 0,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Outcome]:
    """Yield ``function(unit)`` for every unit, in the order of ``units``.

    Args:
        function: a module-level function (it is pickled by reference for
            the ``process`` and ``dask`` executors), deterministic in its unit.
        units: the work, each unit picklable.
        executor: ``serial``, ``process`` or ``dask`` (see the module docs).
        jobs: worker processes (``0`` = every core); ignored by ``serial`` and
            by a running Dask cluster.
        scheduler: a Dask scheduler address (``tcp://host:port``), or ``None``.
        progress: called with the number of units just finished (in
            whatever order they finish).

    Outcomes are yielded as soon as they and every earlier one are ready, so
    a caller interrupted half-way keeps a complete prefix.  Closing the
    iterator (or an interrupt while waiting) stops the workers.

    Raises:
        ExecutorError: bad executor options (see :func:`check_executor`) or a
            Dask cluster that is unreachable or runs another posim version.
    """
    check_executor(executor, jobs, scheduler)
    if not units:
        return iter(())
    if executor == "serial":
        return _serial(function, units, progress)
    workers = worker_count(jobs)
    batches = _batches(units, workers)
    if executor == "process":
        return _process(function, batches, min(workers, len(batches)), progress)
    return _dask(function, batches, min(workers, len(batches)), scheduler, progress)
