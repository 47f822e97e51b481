"""posim.executors, ``process``: this process works too, children join when they are ready.

The work functions below are module-level so spawned children can import them.
Who runs what is forced with files, not timing: a *gate* unit waits until a
*mark* unit has created a file, so the two must run in different processes;
this process always takes unit 0 first (before any child can get work).  No
assertion here depends on how fast anything runs.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Generator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, cast

import pytest

import posim
from posim.comparison import compare
from posim.executors import MAX_BATCH, _guided_size, _Schedule, run_ordered
from posim.runs import dumps_json

GATE_TIMEOUT = 120.0
"""Longest a gate waits for its mark (a failing test, not a hang)."""

Unit = tuple[str, str, int]
"""``(kind, folder, number)``: kind is gate, mark, plain, or one of those with a suffix."""


def _work(unit: Unit) -> tuple[int, int]:
    """Run one unit; return ``(number, pid)``.

    ``gate``: wait for the mark file; ``mark``: create it; ``plain``: nothing.
    A ``-fail`` suffix raises ValueError afterwards, ``-exit`` ends the process,
    ``-sleep`` sleeps 2 s, then leaves a file (so a unit stopped half-way leaves none).
    """
    kind, folder, number = unit
    marker = Path(folder) / "mark"
    if kind.startswith("gate"):
        deadline = time.monotonic() + GATE_TIMEOUT
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
    elif kind.startswith("mark"):
        (Path(folder) / "mark.tmp").write_text(str(os.getpid()), encoding="utf-8")
        (Path(folder) / "mark.tmp").replace(marker)
    if kind.endswith("-fail"):
        raise ValueError(f"unit {number} failed")
    if kind.endswith("-exit"):
        os._exit(3)
    if kind.endswith("-sleep"):
        time.sleep(2)
        (Path(folder) / f"slept-{number}").touch()
    return number, os.getpid()


def _units(folder: Path, kinds: list[str]) -> list[Unit]:
    return [(kind, str(folder), number) for number, kind in enumerate(kinds)]


def _uneven(unit: tuple[int, str | None]) -> tuple[int, int]:
    """Work of uneven cost (0-12 ms of sleep); returns ``(number squared, pid)``.

    With a folder, unit 0 is a gate and unit 1 its mark, so a child surely
    takes part.  Unit 1000 raises ValueError.
    """
    number, folder = unit
    if folder is not None and number in (0, 1):
        _work(("gate" if number == 0 else "mark", folder, number))
    time.sleep((number % 7) * 0.002 if number % 3 else 0.0)
    if number == 1000:
        raise ValueError("unit 1000 failed")
    return number * number, os.getpid()


def _no_children_left() -> bool:
    """No child process of ours is still running (the ones we stopped are reaped)."""
    return multiprocessing.active_children() == []


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_guided_batches_shrink_with_the_work_left() -> None:
    assert _guided_size(100, participants=2) == 25
    assert _guided_size(7, participants=2) == 2
    assert _guided_size(1, participants=3) == 1
    assert _guided_size(10**7, participants=2) == MAX_BATCH


def test_the_schedule_hands_out_every_unit_once_in_order() -> None:
    schedule = _Schedule(100)
    taken: list[int] = []
    sizes: list[int] = []
    while True:
        one = schedule.take_one()
        if one is not None:
            taken.append(one)
        batch = schedule.take_batch(participants=2)
        if batch is not None:
            taken.extend(batch)
            sizes.append(len(batch))
        if one is None and batch is None:
            break
    assert taken == list(range(100))
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 25 and sizes[-1] == 1
    schedule = _Schedule(10)
    assert schedule.take_one() == 0
    assert schedule.close() == 1  # the first unit never handed out
    assert schedule.take_one() is None and schedule.take_batch(2) is None


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_uneven_units_come_back_complete_and_in_order(tmp_path: Path, jobs: int) -> None:
    folder = str(tmp_path) if jobs > 1 else None  # the gate needs a second process
    units = [(number, folder) for number in range(120)]
    counted: list[int] = []
    outcomes = list(
        run_ordered(_uneven, units, executor="process", jobs=jobs, progress=counted.append)
    )
    assert [square for square, _ in outcomes] == [number * number for number in range(120)]
    assert min(jobs, 2) <= len({pid for _, pid in outcomes}) <= jobs  # a child took part
    assert sum(counted) == len(units) and all(count >= 1 for count in counted)
    assert _no_children_left()


@pytest.mark.parametrize("jobs", [2, 3])
def test_this_process_and_a_child_share_the_work(tmp_path: Path, jobs: int) -> None:
    units = _units(tmp_path, ["gate", "mark"] + ["plain"] * 20)
    outcomes = list(run_ordered(_work, units, executor="process", jobs=jobs))
    assert [number for number, _ in outcomes] == list(range(len(units)))
    pids = [pid for _, pid in outcomes]
    assert pids[0] == os.getpid()  # this process took the first unit at once
    assert pids[1] != os.getpid()  # the gate could only open in another process
    assert _no_children_left()


def test_a_tiny_job_does_not_wait_for_a_child_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The children take 2 s to import the work function: this process does it all.

    They are stopped, not waited for: none of them ever finishes importing.
    """
    (tmp_path / "slow_to_import_in_children.py").write_text(
        textwrap.dedent(
            """
            import os
            import time
            from pathlib import Path

            if os.getpid() != int(os.environ["TEST_PARENT_PID"]):  # in a child only
                time.sleep(2)
                (Path(__file__).parent / "imported-in-a-child").touch()


            def pid(unit):
                return unit, os.getpid()
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TEST_PARENT_PID", str(os.getpid()))
    from slow_to_import_in_children import pid

    outcomes = list(run_ordered(pid, range(5), executor="process", jobs=3))
    assert outcomes == [(unit, os.getpid()) for unit in range(5)]
    assert _no_children_left()
    assert not (tmp_path / "imported-in-a-child").exists()


@pytest.mark.parametrize(
    ("kinds", "before"),
    [
        (["gate-fail", "mark"] + ["plain"] * 10, 0),  # raised in this process
        (["gate", "mark-fail"] + ["plain"] * 10, 1),  # raised in a child
    ],
    ids=["in-this-process", "in-a-child"],
)
def test_an_exception_in_a_unit_surfaces_in_order(
    tmp_path: Path, kinds: list[str], before: int
) -> None:
    outcomes: list[tuple[int, int]] = []
    with pytest.raises(ValueError) as raised:
        outcomes.extend(run_ordered(_work, _units(tmp_path, kinds), executor="process", jobs=2))
    assert str(raised.value) == f"unit {before} failed"
    assert [number for number, _ in outcomes] == list(range(before))
    if before == 1:  # from the child: its traceback comes along
        assert "_work" in str(raised.value.__cause__)
        assert 'raise ValueError(f"unit {number} failed")' in str(raised.value.__cause__)
    assert _no_children_left()


@pytest.mark.parametrize("executor_jobs", [("serial", 1), ("process", 1), ("process", 2)])
def test_an_exception_is_the_same_whatever_runs_it(executor_jobs: tuple[str, int]) -> None:
    executor, jobs = executor_jobs
    outcomes: list[tuple[int, int]] = []
    units = [(number, None) for number in range(990, 1030)]
    with pytest.raises(ValueError, match=r"^unit 1000 failed$"):
        outcomes.extend(run_ordered(_uneven, units, executor=executor, jobs=jobs))
    assert [square for square, _ in outcomes] == [number * number for number in range(990, 1000)]


def test_a_child_that_dies_is_an_error_after_the_outcomes_before_it(tmp_path: Path) -> None:
    outcomes: list[tuple[int, int]] = []
    units = _units(tmp_path, ["gate", "mark-exit"] + ["plain"] * 5)
    with pytest.raises(BrokenProcessPool, match=r"stopped unexpectedly \(exit code 3\)"):
        outcomes.extend(run_ordered(_work, units, executor="process", jobs=2))
    assert outcomes == [(0, os.getpid())]
    assert _no_children_left()


def test_closing_early_stops_a_busy_child(tmp_path: Path) -> None:
    """This process yields between its own units; closing then stops the child mid-unit."""
    units = _units(tmp_path, ["gate", "mark-sleep", "plain", "plain"])
    outcomes = cast(  # the process executor's iterator is a generator
        "Generator[tuple[int, int], None, None]",
        run_ordered(_work, units, executor="process", jobs=2),
    )
    assert next(outcomes) == (0, os.getpid())
    child = int((tmp_path / "mark").read_text(encoding="utf-8"))
    assert child != os.getpid()
    outcomes.close()  # the child is sleeping in unit 1
    assert _gone(child)
    assert _no_children_left()
    assert not (tmp_path / "slept-1").exists()  # stopped, not waited for


def test_an_interrupt_in_progress_stops_the_children(tmp_path: Path) -> None:
    calls: list[int] = []

    def progress(count: int) -> None:
        calls.append(count)
        if len(calls) == 2:  # this process's second unit; the child sleeps in unit 1
            raise KeyboardInterrupt

    units = _units(tmp_path, ["gate", "mark-sleep", "plain", "plain"])
    with pytest.raises(KeyboardInterrupt):
        list(run_ordered(_work, units, executor="process", jobs=2, progress=progress))
    assert calls == [1, 1]
    assert _gone(int((tmp_path / "mark").read_text(encoding="utf-8")))
    assert _no_children_left()
    assert not (tmp_path / "slept-1").exists()


def test_a_function_children_cannot_import_is_refused_even_for_a_tiny_job() -> None:
    with pytest.raises((pickle.PicklingError, AttributeError)):  # a local function
        list(run_ordered(lambda unit: unit, [1, 2], executor="process", jobs=2))
    assert _no_children_left()


@pytest.mark.parametrize("first", ["sleep", "gate"], ids=["busy", "waiting-for-the-child"])
def test_ctrl_c_stops_everything_without_tracebacks(tmp_path: Path, first: str) -> None:
    """SIGINT to the whole process group (what a terminal does) while a child works.

    This process is either busy in its own unit or, having nothing left to
    take, waiting for the child's outcomes.
    """
    (tmp_path / "ctrl_c_work.py").write_text(
        textwrap.dedent(
            """
            import os
            import time
            from pathlib import Path


            def work(unit):
                kind, folder = unit
                marker = Path(folder) / "mark"
                if kind == "mark":
                    (Path(folder) / "mark.tmp").write_text(str(os.getpid()))
                    (Path(folder) / "mark.tmp").replace(marker)
                if kind == "gate":
                    while not marker.exists():
                        time.sleep(0.005)
                    return
                time.sleep(60)
            """
        ),
        encoding="utf-8",
    )
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from ctrl_c_work import work\n"
        "from posim.executors import run_ordered\n"
        f"units = [({first!r}, {str(tmp_path)!r}), ('mark', {str(tmp_path)!r})]\n"
        "try:\n"
        "    list(run_ordered(work, units, executor='process', jobs=2))\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + GATE_TIMEOUT
        marker = tmp_path / "mark"
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert marker.exists(), process.communicate(timeout=5)
        time.sleep(0.2)  # let this process get past the gate (either way the test holds)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert (process.returncode, out) == (0, "interrupted\n"), err
    assert "Traceback" not in err
    assert _gone(int(marker.read_text(encoding="utf-8")))


def test_a_job_is_split_so_both_finish_together() -> None:
    """Guided batches for one child: a few large batches first, then single units."""
    remaining, sizes = 1000, []
    while remaining:
        size = _guided_size(remaining, participants=2)
        sizes.append(size)
        remaining -= size
    assert sizes[:3] == [250, 188, 141] and sizes[-1] == 1
    assert len(sizes) < 40 and math.fsum(sizes) == 1000


@pytest.mark.parametrize("jobs", [2, 3])
def test_a_comparison_is_byte_identical_for_any_number_of_jobs(jobs: int) -> None:
    """Enough replications that the children usually join in (not asserted: timing)."""
    scenario = posim.load_scenario("tutorial")
    arguments: dict[str, Any] = {"strategies": ["fifo", "wsjf"], "runs": 120}
    serial = dumps_json(compare(scenario, **arguments, executor="serial").to_json("x"))
    spread = compare(scenario, **arguments, executor="process", jobs=jobs)
    assert dumps_json(spread.to_json("x")) == serial
    assert _no_children_left()


def test_an_iterator_nobody_closed_does_not_hold_up_the_exit(tmp_path: Path) -> None:
    """A script that leaves with the iterator half-used exits without finishing its work."""
    units = _units(tmp_path, ["gate", "mark-sleep"] + ["plain-sleep"] * 20)
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_executors_parallel import _work\n"
        "from posim.executors import run_ordered\n"
        f"outcomes = run_ordered(_work, {units!r}, executor='process', jobs=2)\n"
        "print(next(outcomes)[0])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert (completed.returncode, completed.stdout) == (0, "0\n"), completed.stderr
    assert _gone(int((tmp_path / "mark").read_text(encoding="utf-8")))
    assert not list(tmp_path.glob("slept-*"))  # the child was stopped in unit 1
