"""Executors: where replications run — in this process, on local cores, or on a Dask cluster.

One seam, :func:`run_ordered`, takes a top-level (picklable) function and a
list of work units and yields ``function(unit)`` for every unit **in unit
order**, whichever executor runs them and however many workers it has:

* ``serial`` — one unit after another in this process (no pickling at all);
* ``process`` — the default; ``jobs=0`` uses every core, ``jobs=1`` is
  ``serial``.  With ``jobs=N`` **this process is one of the N workers**: it
  spawns ``N-1`` children (``spawn`` context) and starts on the first unit
  at once, while they start up (a spawned Python importing posim takes
  ~0.3 s).  It then takes the units one at a time; a dispatcher thread
  answers each child's request for work with a batch whose size shrinks with
  the work left (guided self-scheduling: half a fair share, so everybody
  finishes together).  A child holds one batch at a time and, when its
  units are short, asks for the next a few units early, so it never waits.
  A job that ends before a child is ready never waits for it: children are
  stopped as soon as the outcomes are all in (or the iterator is closed, or
  Ctrl+C, or the interpreter exits with the iterator unfinished), not joined.  Children ignore Ctrl+C, so only this process hears
  it and stops them cleanly;
* ``dask`` — a ``distributed`` cluster (the ``dask`` extra).  Without a
  scheduler address a ``LocalCluster`` of ``jobs`` worker processes listens on
  127.0.0.1 with its dashboard off; with ``scheduler="tcp://host:port"`` it
  connects to a running cluster and first checks that every worker runs the
  same posim version as this process.  Units travel in batches (a few per
  worker), so the per-task overhead stays small.

Outcomes are keyed by unit (or batch) index and handed on in index order, so
a caller that reduces them in the order it receives them gets byte-identical
output for every executor and job count.  An exception raised by a unit is
raised after every outcome before it, whichever process ran it (from a child
it carries the child's traceback as its ``__cause__``).  Nothing here knows
about simulations: :mod:`posim.comparison` and :mod:`posim.runs` supply the
functions and units.
"""

from __future__ import annotations

import atexit
import importlib
import math
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
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
"""Dask batches per worker: enough to balance the load, few enough to keep the overhead low."""

MAX_BATCH = 256
"""Most units in one batch or child's batch (so progress moves and an interrupt loses little)."""

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


class _Schedule:
    """Hands out unit indices in order: one at a time to this process, shrinking batches to children.

    Guided self-scheduling: a child's batch is a share of what is left
    (:func:`_guided_size`), so batches start large and shrink as the work
    runs out, and nobody is left holding a long batch at the end.  Thread-safe
    (the dispatcher thread takes batches while this process takes units).
    """

    def __init__(self, count: int) -> None:
        self._count = count
        self._next = 0
        self._open = True
        self._lock = threading.Lock()

    def take_one(self) -> int | None:
        """The next unit for this process, or ``None`` when none is left (or closed)."""
        with self._lock:
            if not self._open or self._next >= self._count:
                return None
            self._next += 1
            return self._next - 1

    def take_batch(self, participants: int) -> range | None:
        """The next batch for a child, or ``None`` when none is left (or closed)."""
        with self._lock:
            remaining = self._count - self._next if self._open else 0
            if remaining <= 0:
                return None
            start = self._next
            self._next += _guided_size(remaining, participants)
            return range(start, self._next)

    def close(self) -> int:
        """Hand out nothing more; the first unit never handed out."""
        with self._lock:
            self._open = False
            return self._next


def _guided_size(remaining: int, participants: int) -> int:
    """A child's batch: half its fair share of what is left, 1 .. :data:`MAX_BATCH` units."""
    return max(1, min(MAX_BATCH, math.ceil(remaining / (2 * participants))))


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (set as its ``__cause__``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


Failure = tuple[BaseException, str]
"""An exception raised in a child, and its traceback as text."""


def _portable(error: BaseException) -> Failure:
    """``error`` as it can travel back to the parent: itself if it pickles, else a stand-in."""
    import pickle
    import traceback
    from multiprocessing.reduction import ForkingPickler

    text = "".join(traceback.format_exception(error))
    try:
        pickle.loads(ForkingPickler.dumps(error))
    except Exception:  # any exception that does not round-trip
        return RuntimeError(f"{type(error).__qualname__}: {error}"), text
    return error, text


def _child_main(function: Callable[[Unit], Outcome], tasks: Any, results: Any) -> None:
    """A child process: ask for a batch, run it, send the outcomes back; until there is none.

    ``tasks`` brings ``(start, units, ahead)`` or ``None`` (no work left: the
    child exits).  ``results`` takes ``None`` ("send me a batch"; the first
    one also says the child is ready: it has unpickled ``function``, which
    imported its module) or ``(start, outcomes, failure, asks)``: the outcomes
    of the batch's units up to the first that raised, that unit's failure (or
    ``None``), and whether the child asks for its next batch with it.

    When its units are short, the child asks for the next batch ``ahead``
    units before the end of this one, so the answer is waiting when it is
    done; it then reads the answer before sending its outcomes (it never
    writes while the parent may be blocked writing to it).
    """
    from multiprocessing.reduction import ForkingPickler

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # already ignored from the start; be sure
    try:
        results.send(None)
        task = tasks.recv()
        while task is not None:
            start, batch, ahead = task
            outcomes: list[Outcome] = []
            failure: Failure | None = None
            asked = False
            try:
                for position, unit in enumerate(batch):
                    if not asked and len(batch) - position <= ahead:
                        results.send(None)
                        asked = True
                    outcomes.append(function(unit))
            except BaseException as error:  # it belongs to the parent
                failure = _portable(error)
            for stream in (sys.stdout, sys.stderr):  # a child may be stopped at any time
                if stream is not None:
                    with suppress(OSError, ValueError):
                        stream.flush()
            try:
                payload = ForkingPickler.dumps((start, outcomes, failure, not asked))
            except Exception as error:  # an outcome that does not pickle
                payload = ForkingPickler.dumps((start, [], _portable(error), not asked))
            if asked:
                task = tasks.recv()
                results.send_bytes(payload)
            else:
                results.send_bytes(payload)
                task = tasks.recv()
    except (EOFError, OSError):  # the parent has gone: nothing left to do
        return


_LIVE_CHILDREN: weakref.WeakSet[_Child] = weakref.WeakSet()
"""Children not yet closed: stopped at exit if their iterator was abandoned."""


def _stop_children_at_exit() -> None:
    """At interpreter exit, stop the children of iterators nobody closed.

    Registered after :mod:`multiprocessing`, so it runs before
    ``multiprocessing``'s own exit handler, which would otherwise wait for
    them to finish every unit left.
    """
    for child in list(_LIVE_CHILDREN):
        child.stop()


class _Child:
    """A child process, this process's ends of its two pipes, and the batches it holds."""

    _exit_handler_registered = False

    def __init__(self, context: Any, function: Callable[..., Any]) -> None:
        if not _Child._exit_handler_registered:
            atexit.register(_stop_children_at_exit)
            _Child._exit_handler_registered = True
        task_reader, self.tasks = context.Pipe(duplex=False)
        self.results, result_writer = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_child_main,
            args=(function, task_reader, result_writer),
            name="posim-worker",
        )
        try:
            self.process.start()
        except BaseException:
            for connection in (self.tasks, self.results):
                connection.close()
            raise
        finally:  # the child has its own copies; ours would hide its exit (no EOF)
            task_reader.close()
            result_writer.close()
        self.holding: list[range] = []
        """Batches sent to it whose outcomes have not come back."""
        self.retired = False
        """Told that no work is left (it exits by itself)."""
        _LIVE_CHILDREN.add(self)

    def stop(self) -> None:
        """Stop the process at once (it holds nothing worth waiting for)."""
        if self.process.is_alive():
            self.process.terminate()

    def close(self) -> None:
        """Wait for the stopped process and close the pipes."""
        self.process.join(timeout=5)
        if self.process.is_alive():  # pragma: no cover - SIGTERM is not ignored
            self.process.kill()
            self.process.join(timeout=5)
        self.tasks.close()
        self.results.close()
        _LIVE_CHILDREN.discard(self)


class _Died:
    """Arrival: a child's pipe closed unexpectedly while it held ``batch`` (or nothing)."""

    def __init__(self, child: _Child, batch: range | None) -> None:
        self.child = child
        self.batch = batch


class _Crashed:
    """Arrival: the dispatcher thread itself failed (a bug): re-raised in this process."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


ASK_AHEAD_SECONDS = 0.03
"""How much work a child still has when it asks for its next batch (short units only)."""


def _dispatch(
    units: Sequence[Any],
    children: list[_Child],
    schedule: _Schedule,
    arrivals: Any,
    wake: Any,
    unit_seconds: list[float],
) -> None:
    """The dispatcher thread: answer the children's requests for work, pass outcomes on.

    It waits on the children's result pipes (and ``wake``, which stops it);
    outcomes go to ``arrivals`` for the main thread, which alone orders them
    and calls ``progress``.  A child is answered as soon as it asks, whatever
    the main thread is doing.  ``unit_seconds`` is ``[seconds, units]`` the
    main thread has spent so far: from it a child learns how many units
    before the end of a batch to ask for the next (:data:`ASK_AHEAD_SECONDS`).
    """
    import pickle
    from multiprocessing.connection import wait

    def answer(child: _Child, participants: int) -> None:
        batch = schedule.take_batch(participants)
        if batch is None:
            child.retired = True
            task: Any = None
        else:
            child.holding.append(batch)
            seconds, count = unit_seconds
            ahead = int(ASK_AHEAD_SECONDS * count / seconds) if seconds > 0 else 0
            task = (batch.start, list(units[batch.start : batch.stop]), ahead)
        with suppress(OSError):  # it died: its pipe says so next
            child.tasks.send(task)

    try:
        by_pipe = {child.results: child for child in children}
        while by_pipe:
            readable = wait([wake, *by_pipe])
            if wake in readable:
                return
            for child in [by_pipe[pipe] for pipe in readable]:
                try:
                    payload = child.results.recv_bytes()
                except (EOFError, OSError):
                    del by_pipe[child.results]
                    if child.holding or not child.retired:  # (held in unit order)
                        arrivals.put(_Died(child, child.holding[0] if child.holding else None))
                    continue
                try:
                    message = pickle.loads(payload)
                except Exception as error:  # outcomes that will not unpickle here
                    message = (child.holding[0].start, [], (error, ""), True)
                if message is None:
                    answer(child, 1 + len(by_pipe))
                    continue
                start, outcomes, failure, asks = message
                child.holding = [batch for batch in child.holding if batch.start != start]
                arrivals.put((start, outcomes, failure))
                if asks:
                    answer(child, 1 + len(by_pipe))
    except BaseException as error:  # handed to the main thread
        arrivals.put(_Crashed(error))


def _process(
    function: Callable[[Unit], Outcome],
    units: Sequence[Unit],
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[Outcome]:
    """This process and ``workers - 1`` spawned children share the units.

    This process starts on the first unit at once and then takes the units
    one at a time; each child, once it has started up, gets shrinking batches
    from the dispatcher thread (:class:`_Schedule`).  Outcomes are keyed by
    unit index and yielded in order; an exception in a unit (wherever it ran)
    is raised once every outcome before it has been yielded.  When the work
    is done, or the iterator is closed or interrupted, the children are
    stopped at once, even those still starting up.
    """
    import multiprocessing
    import queue
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    schedule = _Schedule(len(units))
    arrivals: queue.SimpleQueue[Any] = queue.SimpleQueue()
    wake_reader, wake_writer = context.Pipe(duplex=False)
    children: list[_Child] = []
    dispatcher: threading.Thread | None = None
    finished: dict[int, list[Outcome]] = {}  # by the index of their first unit
    failures: dict[int, BaseException] = {}  # by unit index
    emitted = 0
    unit_seconds = [0.0, 0]  # spent by this process on its units (read by the dispatcher)

    def arrived(arrival: Any) -> None:
        if isinstance(arrival, _Crashed):
            raise arrival.error
        if isinstance(arrival, _Died):
            arrival.child.process.join(timeout=1)
            where = arrival.batch.start if arrival.batch is not None else schedule.close()
            failures[where] = BrokenProcessPool(
                "a worker process stopped unexpectedly "
                f"(exit code {arrival.child.process.exitcode})"
            )
            schedule.close()
            return
        start, outcomes, failure = arrival
        if outcomes:
            finished[start] = outcomes
            if progress is not None:
                progress(len(outcomes))
        if failure is not None:
            error, text = failure
            if text:
                error.__cause__ = _RemoteTraceback(text)
            failures[start + len(outcomes)] = error
            schedule.close()

    try:
        with _children_ignore_interrupts(), _without_main_script(function):
            for _ in range(workers - 1):
                children.append(_Child(context, function))
        index = schedule.take_one()  # ours before any child can have one
        dispatcher = threading.Thread(
            target=_dispatch,
            args=(units, children, schedule, arrivals, wake_reader, unit_seconds),
            name="posim-dispatcher",
            daemon=True,
        )
        dispatcher.start()
        while emitted < min(failures, default=len(units)):
            if index is not None:
                try:
                    began = time.perf_counter()
                    outcome = function(units[index])
                    unit_seconds[0] += time.perf_counter() - began
                    unit_seconds[1] += 1
                except Exception as error:  # raised in order, below
                    failures[index] = error
                    schedule.close()
                else:
                    finished[index] = [outcome]
                    if progress is not None:
                        progress(1)
                while True:  # whatever the children have sent meanwhile
                    try:
                        arrived(arrivals.get_nowait())
                    except queue.Empty:
                        break
            else:  # nothing left to take: wait for the children
                try:
                    arrived(arrivals.get(timeout=1.0))
                except queue.Empty:
                    if not dispatcher.is_alive():  # pragma: no cover - it reports its death
                        raise RuntimeError("posim: the dispatcher thread stopped") from None
            while emitted in finished and emitted < min(failures, default=len(units)):
                outcomes = finished.pop(emitted)
                yield from outcomes
                emitted += len(outcomes)
            index = schedule.take_one()
        if failures:
            raise failures[min(failures)]
    finally:
        schedule.close()
        wake_writer.send(None)  # stops the dispatcher
        for child in children:
            child.stop()
        if dispatcher is not None:
            dispatcher.join(timeout=5)
        for child in children:
            child.close()
        wake_reader.close()
        wake_writer.close()


def _dask(
    function: Callable[[Unit], Outcome],
    batches: list[list[Unit]],
    workers: int,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
) -> Iterator[Outcome]:
    import logging  # here: a worker process need not import it

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
        jobs: worker processes (``0`` = every core), this process included
            for ``process``; ignored by ``serial`` and by a running Dask
            cluster.
        scheduler: a Dask scheduler address (``tcp://host:port``), or ``None``.
        progress: called (in this process's main thread) with the number of
            units just finished, in whatever order they finish.

    Outcomes are yielded as soon as they and every earlier one are ready, so
    a caller interrupted half-way keeps a complete prefix.  (With ``process``,
    this process hands them on between its own units.)  Closing the iterator
    (or an interrupt) stops the workers.  An exception raised by a unit is
    raised after the outcomes of every unit before it.

    Raises:
        ExecutorError: bad executor options (see :func:`check_executor`) or a
            Dask cluster that is unreachable or runs another posim version.
        concurrent.futures.process.BrokenProcessPool: a ``process`` child
            stopped unexpectedly (after the outcomes before its batch).
    """
    check_executor(executor, jobs, scheduler)
    if not units:
        return iter(())
    if executor == "serial":
        return _serial(function, units, progress)
    workers = min(worker_count(jobs), len(units))
    if executor == "process":
        if workers <= 1:
            return _serial(function, units, progress)
        return _process(function, units, workers, progress)
    batches = _batches(units, workers)
    return _dask(function, batches, min(workers, len(batches)), scheduler, progress)
