"""posim.executors: every executor gives the same outcomes in the same order."""

from __future__ import annotations

import math
import operator
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NOISY_SCENARIO

import posim
from posim.comparison import compare
from posim.executors import (
    ExecutorError,
    _batches,
    check_executor,
    check_worker_versions,
    run_ordered,
)
from posim.runs import dumps_json
from posim.scenario import Scenario

UNITS = list(range(37))


def test_serial_yields_in_order_and_counts_progress() -> None:
    counted: list[int] = []
    outcomes = list(run_ordered(operator.neg, UNITS, executor="serial", progress=counted.append))
    assert outcomes == [-unit for unit in UNITS]
    assert sum(counted) == len(UNITS)


@pytest.mark.parametrize("jobs", [1, 2])
def test_process_pool_yields_in_unit_order(jobs: int) -> None:
    counted: list[int] = []
    outcomes = list(
        run_ordered(math.factorial, UNITS, executor="process", jobs=jobs, progress=counted.append)
    )
    assert outcomes == [math.factorial(unit) for unit in UNITS]
    assert sum(counted) == len(UNITS)
    assert all(count >= 1 for count in counted)


def test_no_units_no_work() -> None:
    assert list(run_ordered(operator.neg, [], executor="process")) == []


def test_batches_are_consecutive_and_cover_every_unit() -> None:
    batches = _batches(list(range(100)), workers=2)
    assert [unit for batch in batches for unit in batch] == list(range(100))
    assert len(batches) == 8  # four per worker
    assert {len(batch) for batch in batches} == {13, 9}
    assert len(_batches(list(range(3)), workers=8)) == 3


def test_closing_early_stops_the_pool_at_once() -> None:
    outcomes: Iterator[None] = run_ordered(
        time.sleep, [0.0, 0.0] + [5.0] * 14, executor="process", jobs=2
    )
    assert next(outcomes) is None
    started = time.perf_counter()
    outcomes.close()  # what an interrupt does: workers are terminated, not waited for
    assert time.perf_counter() - started < 3.0  # waiting for a running task takes 5 s


@pytest.mark.parametrize(
    ("executor", "jobs", "scheduler", "message"),
    [
        ("threads", 0, None, "unknown executor 'threads'; use one of serial, process, dask"),
        ("process", -1, None, "--jobs must be >= 0 (0 = every core), got -1"),
        ("process", 0, "tcp://127.0.0.1:8786", "--scheduler needs --executor dask"),
        (
            "dask",
            0,
            "127.0.0.1:8786",
            "--scheduler '127.0.0.1:8786': expected tcp://host:port (e.g. tcp://127.0.0.1:8786)",
        ),
    ],
)
def test_bad_executor_options_are_one_clear_line(
    executor: str, jobs: int, scheduler: str | None, message: str
) -> None:
    with pytest.raises(ExecutorError) as error:
        check_executor(executor, jobs, scheduler)
    assert str(error.value) == message
    with pytest.raises(ExecutorError):
        run_ordered(operator.neg, UNITS, executor=executor, jobs=jobs, scheduler=scheduler)


def test_worker_versions_must_match() -> None:
    check_worker_versions({"tcp://a:1": "1.0", "tcp://b:2": "1.0"}, "1.0")
    with pytest.raises(ExecutorError) as error:
        check_worker_versions(
            {"tcp://a:1": "1.0", "tcp://b:2": "0.9", "tcp://c:3": ModuleNotFoundError("posim")},
            "1.0",
        )
    assert str(error.value) == (
        "every Dask worker must run posim 1.0 like this machine: "
        "tcp://b:2 has 0.9, tcp://c:3 has posim"
    )
    with pytest.raises(ExecutorError, match="no workers"):
        check_worker_versions({}, "1.0")


@pytest.mark.dask
def test_dask_local_cluster_and_scheduler_match_serial() -> None:
    """LocalCluster, a running cluster by address, and serial: byte-identical comparisons."""
    from distributed import LocalCluster

    scenario = Scenario.model_validate(NOISY_SCENARIO)
    arguments = {"strategies": ["fifo", "wsjf", "cos"], "runs": 12}
    serial = dumps_json(compare(scenario, **arguments, executor="serial").to_json("x"))
    local = dumps_json(compare(scenario, **arguments, executor="dask", jobs=2).to_json("x"))
    assert local == serial
    with LocalCluster(
        host="127.0.0.1", n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        remote = compare(
            scenario, **arguments, executor="dask", scheduler=cluster.scheduler_address
        )
        assert dumps_json(remote.to_json("x")) == serial
        outcomes = run_ordered(
            math.factorial, UNITS, executor="dask", scheduler=cluster.scheduler_address
        )
        assert list(outcomes) == [math.factorial(unit) for unit in UNITS]
    assert posim.__version__  # what the workers were checked against


def test_dask_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("posim.executors.CONNECT_TIMEOUT", "1s")
    with pytest.raises(ExecutorError, match=r"^--scheduler tcp://127\.0\.0\.1:9: cannot connect"):
        list(run_ordered(operator.neg, UNITS, executor="dask", scheduler="tcp://127.0.0.1:9"))


def test_a_script_without_a_main_guard_works_with_a_pool(tmp_path: Path) -> None:
    """Spawned workers do not re-run the user's script (which would break the pool)."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import operator\n"
        "from posim.executors import run_ordered\n"
        "print('script ran')\n"
        "print(list(run_ordered(operator.neg, range(6), executor='process', jobs=2)))\n",
        encoding="utf-8",
    )
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "script ran\n[0, -1, -2, -3, -4, -5]\n"
