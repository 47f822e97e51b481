"""posim.runs: replications, their seeds, summaries and the files a run writes."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy
import pytest
from scipy import stats as scipy_stats

from posim.engine import METRIC_NAMES, simulate
from posim.engine.randomness import replication_seed
from posim.runs import (
    EVENTS_JSONL,
    ITEMS_CSV,
    RUN_JSON,
    RUNS_CSV,
    Replication,
    RunWriter,
    check_run_options,
    dumps_json,
    run_replications,
    summarise,
)
from posim.scenario import Scenario


def test_replication_r_is_simulate_with_the_derived_seed(noisy_scenario: Scenario) -> None:
    result = run_replications(noisy_scenario, "wsjf", runs=4, seed=11)
    assert [run.replication for run in result.runs] == [0, 1, 2, 3]
    for run in result.runs:
        assert run.seed == replication_seed(11, run.replication)
        direct = simulate(noisy_scenario, strategy="wsjf", seed=run.seed, keep_records=False)
        assert run.metrics == direct.metrics
        assert list(run.metrics) == list(METRIC_NAMES)
    assert (result.scenario, result.strategy, result.reporting, result.seed) == (
        "Noisy",
        "wsjf",
        "honest",
        11,
    )


def test_seed_defaults_to_the_scenarios(noisy_scenario: Scenario) -> None:
    result = run_replications(noisy_scenario, runs=1)
    assert result.seed == noisy_scenario.seed == 7
    assert result.runs[0].seed == replication_seed(7, 0)


def test_more_runs_extend_fewer_runs(noisy_scenario: Scenario) -> None:
    """Replication r does not depend on how many replications there are."""
    few = run_replications(noisy_scenario, "value", runs=2)
    many = run_replications(noisy_scenario, "value", runs=5)
    assert few.runs == many.runs[:2]


def test_strategies_share_the_luck(noisy_scenario: Scenario) -> None:
    """Replication r of every strategy has the same seed (common random numbers)."""
    fifo = run_replications(noisy_scenario, "fifo", runs=3)
    wsjf = run_replications(noisy_scenario, "wsjf", runs=3)
    assert [r.seed for r in fifo.runs] == [r.seed for r in wsjf.runs]


def _by_hand(values: list[float]) -> dict[str, object]:
    """Mean, t-based 95 % CI and linear-interpolation p50/p85, computed without posim."""
    mean = statistics.fmean(values)
    if len(values) < 2 or statistics.stdev(values) == 0:
        ci = [mean, mean]
    else:
        half = scipy_stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values)
        half /= math.sqrt(len(values))
        ci = [mean - half, mean + half]
    p50, p85 = numpy.percentile(values, [50, 85], method="linear")
    return {"mean": mean, "ci95": ci, "p50": float(p50), "p85": float(p85)}


def test_summary_of_each_metric_matches_a_computation_by_hand(noisy_scenario: Scenario) -> None:
    result = run_replications(noisy_scenario, "shortest", runs=6)
    assert list(result.summary) == list(METRIC_NAMES)
    checked = 0
    for metric in METRIC_NAMES:
        values = [run.metrics[metric] for run in result.runs]
        present = [float(v) for v in values if v is not None]
        summary = result.summary[metric]
        if not present:
            assert summary == {"mean": None, "ci95": None, "p50": None, "p85": None}
            continue
        expected = _by_hand(present)
        assert summary["mean"] == pytest.approx(expected["mean"], rel=1e-9, abs=1e-12)
        assert summary["ci95"] == pytest.approx(expected["ci95"], rel=1e-9, abs=1e-9)
        assert summary["p50"] == pytest.approx(expected["p50"], rel=1e-9, abs=1e-12)
        assert summary["p85"] == pytest.approx(expected["p85"], rel=1e-9, abs=1e-12)
        checked += 1
    assert checked >= 10  # most metrics have values in this noisy scenario


def test_metrics_without_values_summarise_to_nulls(tiny_scenario: Scenario) -> None:
    """The tiny scenario has no stakeholders, so trust has no value in any run."""
    result = run_replications(tiny_scenario, runs=2)
    assert result.values("trust_mean") == [None, None]
    assert result.summary["trust_mean"] == {"mean": None, "ci95": None, "p50": None, "p85": None}
    # no slippage at all: every run delivers all six items, so the CI collapses
    assert result.summary["items_done"] == {"mean": 6.0, "ci95": [6.0, 6.0], "p50": 6.0, "p85": 6.0}


def test_summarise_by_hand() -> None:
    summary = summarise([1.0, None, 2.0, 3.0, 4.0])
    assert summary["mean"] == 2.5
    # t(0.975, 3) = 3.182446305284263; sd = sqrt(5/3)
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert summary["ci95"] == pytest.approx([2.5 - half, 2.5 + half], rel=1e-9)
    assert summary["p50"] == 2.5
    assert summary["p85"] == pytest.approx(3.55)
    assert summarise([None, None]) == {"mean": None, "ci95": None, "p50": None, "p85": None}
    assert summarise([5.0]) == {"mean": 5.0, "ci95": [5.0, 5.0], "p50": 5.0, "p85": 5.0}


def test_records_only_when_asked(noisy_scenario: Scenario) -> None:
    lean = run_replications(noisy_scenario, runs=2)
    assert all(run.records == [] and run.items == [] for run in lean.runs)
    full = run_replications(noisy_scenario, runs=2, keep_records=True)
    for run in full.runs:
        assert run.records and run.items
        assert sum(record.kind == "done" for record in run.records) == run.metrics["items_done"]
        assert sum(item["state"] == "done" for item in run.items) == run.metrics["items_done"]


def test_on_replication_hears_every_replication_in_order(noisy_scenario: Scenario) -> None:
    heard: list[Replication] = []
    result = run_replications(
        noisy_scenario, runs=5, jobs=2, keep_records=True, on_replication=heard.append
    )
    assert [r.replication for r in heard] == [0, 1, 2, 3, 4]
    assert all(r.records for r in heard)
    # what the result keeps is lean: the records went to the callback
    assert all(r.records == [] and r.items == [] for r in result.runs)
    assert [r.metrics for r in heard] == [r.metrics for r in result.runs]


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_replication(noisy_scenario: Scenario, jobs: int) -> None:
    steps: list[int] = []
    run_replications(noisy_scenario, runs=9, jobs=jobs, progress=steps.append)
    assert sum(steps) == 9
    assert all(step >= 1 for step in steps)


def test_jobs_do_not_change_the_result(noisy_scenario: Scenario) -> None:
    serial = run_replications(noisy_scenario, "cos", runs=10, jobs=1)
    pooled = run_replications(noisy_scenario, "cos", runs=10, jobs=2)
    everything = run_replications(noisy_scenario, "cos", runs=10, jobs=0)
    assert serial == pooled == everything


def test_spec_reporting_overrides_the_reporting_argument(noisy_scenario: Scenario) -> None:
    result = run_replications(noisy_scenario, "edf+green", reporting="optimistic", runs=1)
    assert (result.strategy, result.reporting) == ("edf", "green")


def test_a_strategy_from_a_file_runs_in_worker_processes(
    noisy_scenario: Scenario, tmp_path: Path
) -> None:
    """A user strategy file is re-imported by each spawned worker; results match serial."""
    path = tmp_path / "largest_first.py"
    path.write_text(
        "class LargestFirst:\n"
        "    name = 'largest'\n"
        "    def priority(self, item, now):\n"
        "        return (-item.estimate_total, item.id)\n",
        encoding="utf-8",
    )
    spec = f"{path}:LargestFirst"
    serial = run_replications(noisy_scenario, spec, runs=4, jobs=1)
    pooled = run_replications(noisy_scenario, spec, runs=4, jobs=2)
    assert serial == pooled
    assert serial.strategy == spec
    fifo = run_replications(noisy_scenario, "fifo", runs=4)
    assert serial.values("net_value") != fifo.values("net_value")


@pytest.mark.parametrize(
    ("strategy", "reporting", "runs", "jobs", "message"),
    [
        ("fifo", "honest", 0, 1, "--runs must be between 1 and"),
        ("fifo", "honest", 1, -1, "--jobs must be >= 0"),
        ("first-come", "honest", 1, 1, "unknown strategy 'first-come'"),
        ("fifo", "rosy", 1, 1, "unknown reporting policy 'rosy'"),
        ("fifo+rosy", "honest", 1, 1, "unknown reporting policy 'rosy'"),
        ("missing.py:Cautious", "honest", 1, 1, "no such file missing.py"),
    ],
)
def test_bad_options_raise_value_error_before_running(
    noisy_scenario: Scenario, strategy: str, reporting: str, runs: int, jobs: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_run_options(strategy, reporting, runs, jobs)
    with pytest.raises(ValueError, match=message):
        run_replications(noisy_scenario, strategy, reporting, runs=runs, jobs=jobs)


def test_json_document_holds_no_nan() -> None:
    text = dumps_json({"a": math.nan, "b": [math.inf, 1.5], "c": None})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": None}
    assert text.endswith("}\n")


def test_run_writer_streams_files(noisy_scenario: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with RunWriter(out, noisy_scenario) as writer:
        result = run_replications(
            noisy_scenario, runs=3, keep_records=True, on_replication=writer.add
        )
        writer.finish(result, "9.9")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [RUNS_CSV, ITEMS_CSV, EVENTS_JSONL, RUN_JSON, "flow.csv"]
    )
    assert json.loads((out / RUN_JSON).read_text()) == json.loads(dumps_json(result.to_json("9.9")))
    lines = (out / RUNS_CSV).read_text().splitlines()
    assert len(lines) == 1 + 3
    full = run_replications(noisy_scenario, runs=3, keep_records=True)
    events = (out / EVENTS_JSONL).read_text().splitlines()
    assert len(events) == sum(len(run.records) for run in full.runs)
    items = (out / ITEMS_CSV).read_text().splitlines()
    assert len(items) == 1 + sum(len(run.items) for run in full.runs)


def test_run_writer_refuses_rows_outside_its_block(
    noisy_scenario: Scenario, tmp_path: Path
) -> None:
    writer = RunWriter(tmp_path, noisy_scenario)
    with pytest.raises(RuntimeError, match="outside its with block"):
        writer.add(Replication(replication=0, seed=1, metrics={}))


def test_an_interrupt_stops_the_workers_at_once(noisy_scenario: Scenario) -> None:
    """Ctrl-C (here raised from the progress callback) ends the pool without running the rest."""
    import multiprocessing
    import time

    calls = 0

    def progress(steps: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_replications(noisy_scenario, runs=200_000, jobs=2, progress=progress)
    assert time.monotonic() - started < 60  # 200,000 replications would take far longer
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
