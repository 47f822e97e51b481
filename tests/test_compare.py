"""posim compare: paired replications on common random numbers, the oracle, files and the CLI."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from conftest import NOISY_SCENARIO, REPO_ROOT, TINY_SCENARIO
from typer.testing import CliRunner

import posim
from posim.cli import app, main
from posim.comparison import (
    MAX_ORACLE_ITEMS,
    CompareError,
    check_oracle,
    compare,
    find_best_order,
)
from posim.engine import METRIC_NAMES, replication_seed, simulate
from posim.runs import dumps_json
from posim.scenario import Scenario

scipy_stats = pytest.importorskip("scipy.stats")

SVG = "{http://www.w3.org/2000/svg}svg"


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``posim ARGS`` in-process; (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), out, err


def one_line_failure(code: int, out: str, err: str) -> str:
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def noisy_file(write_scenario: Any) -> Path:
    return write_scenario(NOISY_SCENARIO)


def single_machine(items: list[tuple[str, float, float]]) -> Scenario:
    """One member, one column, no slippage: Smith's rule holds (DESIGN section 8)."""
    return Scenario.model_validate(
        {
            "posim": 1,
            "name": "Single machine",
            "horizon_days": 60,
            "workflow": [{"name": "development"}],
            "team": [{"name": "Dev", "skills": {"development": 1.0}}],
            "backlog": [
                {
                    "title": title,
                    "value": 100,
                    "cost_of_delay": cost,
                    "effort": {"development": days},
                }
                for title, cost, days in items
            ],
        }
    )


# --------------------------------------------------------------------------
# The statistics: paired t against scipy, Bonferroni, CRN
# --------------------------------------------------------------------------


def test_summaries_and_paired_intervals_match_scipy(noisy_scenario: Scenario) -> None:
    result = compare(noisy_scenario, ["fifo", "wsjf", "value"], runs=15, executor="serial")
    assert result.comparisons == 2 and result.adjustment == "bonferroni"
    for metric in ("net_value", "lead_time_mean", "cost_of_delay"):
        for name in ("wsjf", "value"):
            a = result.values["fifo"][metric]
            b = result.values[name][metric]
            differences = [y - x for x, y in zip(a, b, strict=True)]
            n = len(differences)
            mean = sum(differences) / n
            sem = scipy_stats.sem(differences)
            t = scipy_stats.t.ppf(1 - 0.05 / 2 / 2, n - 1)  # Bonferroni: two comparisons
            paired = result.paired[name][metric]
            assert paired["n"] == n == 15
            assert paired["comparisons"] == 2
            assert paired["mean_diff"] == pytest.approx(mean, rel=1e-12, abs=1e-9)
            assert paired["ci95"] == pytest.approx([mean - t * sem, mean + t * sem], rel=1e-9)
            test = scipy_stats.ttest_rel(b, a)
            assert paired["significant"] == (test.pvalue < 0.05 / 2)
        values = result.values["wsjf"][metric]
        low, high = scipy_stats.t.interval(
            0.95, len(values) - 1, loc=sum(values) / len(values), scale=scipy_stats.sem(values)
        )
        assert result.summary["wsjf"][metric]["ci95"] == pytest.approx([low, high], rel=1e-9)


def test_two_strategies_are_not_adjusted(noisy_scenario: Scenario) -> None:
    result = compare(noisy_scenario, ["fifo", "wsjf"], runs=6, executor="serial")
    assert (result.comparisons, result.adjustment) == (1, "none")
    differences = [
        y - x
        for x, y in zip(
            result.values["fifo"]["net_value"], result.values["wsjf"]["net_value"], strict=True
        )
    ]
    mean = sum(differences) / 6
    half = scipy_stats.t.ppf(0.975, 5) * scipy_stats.sem(differences)
    assert result.paired["wsjf"]["net_value"]["ci95"] == pytest.approx(
        [mean - half, mean + half], rel=1e-9
    )


@pytest.mark.parametrize(("first", "second"), [("fifo", "edf"), ("wsjf", "cos")])
def test_identical_decisions_give_exactly_zero_differences(
    noisy_scenario: Scenario, first: str, second: str
) -> None:
    """No due dates: edf is fifo; no classes of service: cos is wsjf. CRN pairs them exactly."""
    result = compare(noisy_scenario, [first, second], runs=10, executor="serial")
    checked = 0
    for metric in METRIC_NAMES:
        assert result.values[first][metric] == result.values[second][metric]
        paired = result.paired[second][metric]
        if paired["n"] == 0:
            continue
        assert paired["mean_diff"] == 0.0
        assert paired["ci95"] == [0.0, 0.0]
        assert paired["significant"] is False
        checked += 1
    assert checked >= 15
    # and the luck really varies between replications
    assert len(set(result.values[first]["net_value"])) > 5


def test_replication_r_is_simulate_with_the_derived_seed(noisy_scenario: Scenario) -> None:
    result = compare(noisy_scenario, ["fifo", "value+green"], runs=3, seed=5, executor="serial")
    assert result.seeds == [replication_seed(5, r) for r in range(3)]
    for r, seed in enumerate(result.seeds):
        direct = simulate(noisy_scenario, "value", reporting="green", seed=seed, keep_records=False)
        assert {m: result.values["value+green"][m][r] for m in METRIC_NAMES} == direct.metrics


def test_output_is_identical_for_serial_and_process_pools(noisy_scenario: Scenario) -> None:
    documents = {
        dumps_json(
            compare(
                noisy_scenario, ["fifo", "wsjf", "shortest"], runs=9, executor=executor, jobs=jobs
            ).to_json("x")
        )
        for executor, jobs in (("serial", 1), ("process", 1), ("process", 2))
    }
    assert len(documents) == 1


def test_items_kept_only_for_replication_zero(noisy_scenario: Scenario) -> None:
    lean = compare(noisy_scenario, ["fifo", "wsjf"], runs=3, executor="serial")
    assert lean.items == {}
    kept = compare(noisy_scenario, ["fifo", "wsjf"], runs=3, executor="serial", keep_items=True)
    first = simulate(noisy_scenario, "wsjf", seed=kept.seeds[0], keep_records=True)
    assert kept.items["wsjf"] == first.items
    assert set(kept.items) == {"fifo", "wsjf"}


def test_bad_strategies_are_rejected_before_running(noisy_scenario: Scenario) -> None:
    with pytest.raises(CompareError, match="given twice"):
        compare(noisy_scenario, ["fifo", "fifo"], runs=2)
    with pytest.raises(CompareError, match="unknown strategy 'best'"):
        compare(noisy_scenario, ["fifo", "best"], runs=2)
    with pytest.raises(CompareError, match="at least one"):
        compare(noisy_scenario, [], runs=2)
    with pytest.raises(CompareError, match="--runs must be between"):
        compare(noisy_scenario, ["fifo"], runs=0)


def test_posim_compare_is_callable_as_the_design_shows(noisy_scenario: Scenario) -> None:
    import posim.comparison  # the submodule's name never shadows the function

    assert posim.compare is compare
    assert posim.comparison.compare is compare
    table = posim.compare(noisy_scenario, ["fifo", "wsjf"], runs=2, jobs=1, executor="serial")
    assert table.strategies == ["fifo", "wsjf"]


# --------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------


def test_oracle_agrees_with_smiths_rule() -> None:
    """One member, no slippage: WSJF minimises the total cost of delay, so its regret is 0."""
    scenario = single_machine([("A", 10, 4), ("B", 30, 1), ("C", 20, 2), ("D", 5, 1), ("E", 40, 3)])
    best = find_best_order(scenario, runs=1, executor="serial")
    assert best["items"] == 5 and best["orders"] == 120
    # Smith: cost / days descending = B (30), E (13.3), C (10), D (5), A (2.5)
    assert best["cost_of_delay"]["best_titles"] == ["B", "E", "C", "D", "A"]
    # by hand: completion days 1, 4, 6, 7, 11 → 30·1 + 40·4 + 20·6 + 5·7 + 10·11
    assert best["cost_of_delay"]["best_mean"] == 30 + 160 + 120 + 35 + 110
    result = compare(
        scenario, ["fifo", "wsjf", "shortest", "value"], runs=1, executor="serial", oracle=True
    )
    regret = result.oracle["cost_of_delay"]["regret"]
    assert regret["wsjf"]["regret"] == 0.0
    assert regret["fifo"]["regret"] > 0
    for name in result.strategies:
        assert regret[name]["regret"] >= 0
        assert result.oracle["net_value"]["regret"][name]["regret"] >= 0


def test_oracle_on_noisy_replications_bounds_every_strategy() -> None:
    data = {**TINY_SCENARIO, "slippage": {"effort_sigma": 0.6, "blocker_rate": 0.3}}
    data["backlog"] = data["backlog"][:4]
    scenario = Scenario.model_validate(data)
    result = compare(
        scenario,
        ["fifo", "wsjf", "shortest", "value", "random"],
        runs=4,
        executor="serial",
        oracle=True,
    )
    oracle = result.oracle
    assert oracle["orders"] == 24 and oracle["runs"] == 4
    net, cost = oracle["net_value"], oracle["cost_of_delay"]
    assert net["hindsight_mean"] >= net["best_mean"]
    assert cost["hindsight_mean"] <= cost["best_mean"]
    for name in result.strategies:
        assert net["regret"][name]["regret"] >= -1e-9
        assert net["regret"][name]["regret_hindsight"] >= net["regret"][name]["regret"] - 1e-9
        assert cost["regret"][name]["regret"] >= -1e-9
    # the best order is itself a strategy: running it gives the best mean
    from posim.comparison import FixedOrder

    order = FixedOrder(tuple(net["best_order"]))
    means = [
        simulate(scenario, order, seed=seed, keep_records=False).metrics["net_value"]
        for seed in result.seeds
    ]
    assert math.fsum(means) / 4 == pytest.approx(net["best_mean"], rel=1e-12)


def test_oracle_refuses_instances_it_cannot_search(noisy_scenario: Scenario) -> None:
    with pytest.raises(CompareError, match="stakeholder 'Sales' sends requests"):
        check_oracle(noisy_scenario, 1)
    nine = single_machine([(f"I{n}", 1, 1) for n in range(MAX_ORACLE_ITEMS + 1)])
    with pytest.raises(CompareError, match="at most 8 items; this scenario has 9"):
        check_oracle(nine, 1)
    eight = single_machine([(f"I{n}", 1, 1) for n in range(8)])
    with pytest.raises(CompareError, match="use --runs 4 or fewer"):
        check_oracle(eight, 20)


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def test_compare_json_has_exactly_the_design_keys(
    capsys: pytest.CaptureFixture[str], noisy_file: Path
) -> None:
    code, out, err = invoke(
        capsys,
        "compare",
        str(noisy_file),
        "--strategy",
        "fifo",
        "--strategy",
        "wsjf+green",
        "--runs",
        "5",
        "--seed",
        "3",
        "--executor",
        "serial",
        "--json",
    )
    assert code == 0, err
    assert err == ""
    document = json.loads(out)
    assert list(document)[:6] == ["posim", "scenario", "runs", "baseline", "strategies", "paired"]
    assert document["posim"] == posim.__version__
    assert (document["scenario"], document["runs"], document["baseline"]) == ("Noisy", 5, "fifo")
    assert list(document["strategies"]) == ["fifo", "wsjf+green"]
    assert document["strategies"]["wsjf+green"]["reporting"] == "green"
    for name in ("fifo", "wsjf+green"):
        summary = document["strategies"][name]["summary"]
        assert list(summary) == list(METRIC_NAMES)
        assert {"mean", "ci95", "p50", "p85"} <= set(summary["net_value"])
        assert len(summary["net_value"]["ci95"]) == 2
    assert list(document["paired"]) == ["wsjf+green"]
    paired = document["paired"]["wsjf+green"]
    assert list(paired) == list(METRIC_NAMES)
    assert {"mean_diff", "ci95"} <= set(paired["net_value"])
    assert (document["adjustment"], document["comparisons"], document["partial"]) == (
        "none",
        1,
        False,
    )
    assert document["seed"] == 3


def test_compare_table_marks_significant_differences_and_says_bonferroni(
    capsys: pytest.CaptureFixture[str], noisy_file: Path
) -> None:
    code, out, err = invoke(
        capsys,
        "compare",
        str(noisy_file),
        "--strategy",
        "fifo",
        "--strategy",
        "edf",
        "--strategy",
        "wsjf",
        "--runs",
        "20",
        "--executor",
        "serial",
        "--metric",
        "cost_of_delay",
        "--metric",
        "net_value",
    )
    assert code == 0, err
    assert "baseline fifo" in out
    assert "Bonferroni-adjusted for 2 comparisons" in out
    lines = [line for line in out.splitlines() if "│" in line]
    edf = [line for line in lines if " edf " in line]
    wsjf = [line for line in lines if " wsjf " in line]
    assert len(edf) == len(wsjf) == 2
    assert all("+0.00 " in line and "*" not in line for line in edf)  # identical decisions
    assert all("*" in line for line in wsjf)  # WSJF cuts the cost of delay for sure
    assert "lead_time_mean" not in out


def test_compare_out_writes_csv_json_and_valid_plots(
    capsys: pytest.CaptureFixture[str], noisy_file: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "result"
    arguments = [
        "compare",
        str(noisy_file),
        "--strategy",
        "fifo",
        "--strategy",
        "wsjf",
        "--runs",
        "4",
        "--executor",
        "serial",
    ]
    code, _, err = invoke(capsys, *arguments, "--out", str(out_dir), "--json")
    assert code == 0, err
    json_out = capsys.readouterr().out
    code, json_out, _ = invoke(capsys, *arguments, "--json")
    assert (out_dir / "compare.json").read_text(encoding="utf-8") == json_out
    with open(out_dir / "runs.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * 2
    assert [(row["replication"], row["strategy"]) for row in rows[:3]] == [
        ("0", "fifo"),
        ("0", "wsjf"),
        ("1", "fifo"),
    ]
    document = json.loads(json_out)
    wsjf_net = [float(row["net_value"]) for row in rows if row["strategy"] == "wsjf"]
    assert sum(wsjf_net) / 4 == pytest.approx(
        document["strategies"]["wsjf"]["summary"]["net_value"]["mean"]
    )
    expected = {"box_plots.svg"} | {
        f"{kind}-{name}.svg"
        for kind in ("cfd", "cycle_time", "aging_wip")
        for name in ("fifo", "wsjf")
    }
    assert expected <= {path.name for path in out_dir.iterdir()}
    for name in expected:
        root = ElementTree.parse(out_dir / name).getroot()
        assert root.tag == SVG
    assert not (out_dir / "PARTIAL").exists()


def test_compare_out_without_matplotlib_says_how_to_get_it(
    noisy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = CliRunner().invoke(
        app,
        [
            "compare",
            str(noisy_file),
            "--strategy",
            "fifo",
            "--runs",
            "2",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "pip install 'posim[plots]'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--strategy", "fifo", "--strategy", "nope"], "unknown strategy 'nope'"),
        (["--strategy", "fifo+loud"], "unknown reporting policy 'loud'"),
        (["--strategy", "fifo", "--strategy", "fifo"], "strategy 'fifo' is given twice"),
        (["--executor", "threads"], "unknown executor 'threads'"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
        (["--metric", "happiness"], "--metric happiness: unknown metric"),
        (["--oracle"], "--oracle needs every item known at day 0"),
    ],
)
def test_compare_bad_options_fail_with_one_line(
    capsys: pytest.CaptureFixture[str], noisy_file: Path, arguments: list[str], message: str
) -> None:
    line = one_line_failure(*invoke(capsys, "compare", str(noisy_file), "--runs", "2", *arguments))
    assert message in line


def test_compare_oracle_from_the_command_line(
    capsys: pytest.CaptureFixture[str], write_scenario: Any
) -> None:
    data = {**TINY_SCENARIO, "backlog": TINY_SCENARIO["backlog"][:4]}
    code, out, err = invoke(
        capsys,
        "compare",
        str(write_scenario(data)),
        "--strategy",
        "fifo",
        "--strategy",
        "wsjf",
        "--runs",
        "2",
        "--executor",
        "serial",
        "--oracle",
        "--json",
    )
    assert code == 0, err
    oracle = json.loads(out)["oracle"]
    assert (oracle["items"], oracle["orders"], oracle["runs"]) == (4, 24, 2)
    assert set(oracle["net_value"]["regret"]) == {"fifo", "wsjf"}
    assert sorted(oracle["net_value"]["best_titles"]) == ["Cart", "Export", "Login", "Search"]


def wait_for_cpu_seconds(pid: int, seconds: float, timeout: float = 60.0) -> None:
    """Wait until process ``pid`` has used ``seconds`` of CPU (robust on a busy machine)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():  # not Linux: fall back to wall time
        time.sleep(seconds + 2.0)
        return
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= seconds:  # utime + stime
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} did not get {seconds} s of CPU in {timeout} s")


def test_ctrl_c_keeps_the_finished_replications_marked_partial(tmp_path: Path) -> None:
    out_dir = tmp_path / "partial"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "posim",
            "compare",
            "tutorial",
            "--strategy",
            "fifo",
            "--strategy",
            "wsjf",
            "--runs",
            "100000",
            "--executor",
            "serial",
            "--out",
            str(out_dir),
            "--no-plots",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    wait_for_cpu_seconds(process.pid, 3.0)  # imports take about 1 s; then ~8 ms per run
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "marked partial" in err
    document = json.loads((out_dir / "compare.json").read_text(encoding="utf-8"))
    assert document["partial"] is True
    assert document["runs_requested"] == 100000
    assert 1 <= document["runs"] < 100000
    assert (
        (out_dir / "PARTIAL")
        .read_text(encoding="utf-8")
        .startswith(f"interrupted: {document['runs']} of 100000 replications finished")
    )
    with open(out_dir / "runs.csv", encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 2 * document["runs"]
    assert out == ""


def test_compare_from_python_loads_no_rich_textual_matplotlib_or_dask() -> None:
    script = (
        "import sys, posim, posim.comparison\n"
        "scenario = posim.load_scenario('tutorial')\n"
        "table = posim.compare(scenario, ['fifo', 'wsjf'], runs=2, executor='serial')\n"
        "assert table.paired['wsjf']['net_value']['n'] == 2\n"
        "heavy = {'rich', 'textual', 'matplotlib', 'dask', 'distributed'}\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert completed.stdout.strip() == "[]"


def test_an_interrupt_keeps_only_replications_every_strategy_finished(
    noisy_scenario: Scenario,
) -> None:
    finished = 0

    def interrupt_after_seven(count: int) -> None:
        nonlocal finished
        finished += count
        if finished == 7:  # replication 3 done for fifo, not yet for wsjf
            raise KeyboardInterrupt

    def interrupt_at_once(count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # a library call is not interruptible unless asked
        compare(noisy_scenario, ["fifo"], runs=10, executor="serial", progress=interrupt_at_once)
    result = compare(
        noisy_scenario,
        ["fifo", "wsjf"],
        runs=10,
        executor="serial",
        progress=interrupt_after_seven,
        interruptible=True,
    )
    assert result.partial and result.runs == 3 and result.runs_requested == 10
    full = compare(noisy_scenario, ["fifo", "wsjf"], runs=3, executor="serial")
    assert result.values == full.values
    assert result.paired == full.paired
    document = result.to_json("x")
    assert document["partial"] is True and document["runs_requested"] == 10
