"""The ``posim`` command line: output shapes, files written, and errors (exit 2, no traceback)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import NOISY_SCENARIO, REPO_ROOT, TINY_SCENARIO

from posim import __version__
from posim.cli import main
from posim.engine import METRIC_NAMES, RECORD_FIELDS, item_fields, replication_seed

PROBLEM_LINE = re.compile(r"^[^:\s][^:]*:\d+: [\w.\[\]]+: .+$")
"""``file:line: dotted.path: message``."""


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``posim ARGS`` in-process; (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), out, err


def assert_clean_failure(code: int, out: str, err: str, lines: int | None = None) -> list[str]:
    """Exit 2, nothing on stdout, one line per problem on stderr, no traceback."""
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    problems = err.strip().splitlines()
    assert problems, "no error message"
    if lines is not None:
        assert len(problems) == lines, problems
    return problems


# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------


def test_run_json_document_has_exactly_the_design_shape(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario(NOISY_SCENARIO)
    code, out, err = invoke(capsys, "run", str(path), "--strategy", "wsjf", "--runs", "3", "--json")
    assert code == 0, err
    assert err == ""
    document = json.loads(out)  # exactly one document: json.loads rejects trailing data
    # DESIGN's keys in its order, then posim's one extension: the grade counts.
    assert list(document) == [
        "posim", "scenario", "strategy", "reporting", "seed", "runs", "summary", "grades"
    ]  # fmt: skip
    assert sum(document["grades"].values()) == 3
    # One run: the score term by term.
    code, out, err = invoke(capsys, "run", str(path), "--strategy", "wsjf", "--json")
    single = json.loads(out)["runs"][0]["score"]
    assert single["terms"][0]["name"] == "net_value"
    assert sum(t["points"] for t in single["terms"]) == pytest.approx(single["total"], abs=1e-6)
    assert all(t["explanation"] for t in single["terms"])
    assert document["posim"] == __version__
    assert document["scenario"] == "Noisy"
    assert document["strategy"] == "wsjf"
    assert document["reporting"] == "honest"
    assert document["seed"] == NOISY_SCENARIO["seed"]  # the scenario's seed by default
    assert [run["replication"] for run in document["runs"]] == [0, 1, 2]
    for run in document["runs"]:
        assert list(run) == ["replication", "seed", "metrics", "score"]
        assert run["score"] == {
            "total": run["metrics"]["score"],
            "grade": run["score"]["grade"],
        }
        assert run["score"]["grade"] in document["grades"]
        assert run["seed"] == replication_seed(NOISY_SCENARIO["seed"], run["replication"])
        assert list(run["metrics"]) == list(METRIC_NAMES)
    assert list(document["summary"]) == list(METRIC_NAMES)
    for metric, summary in document["summary"].items():
        assert list(summary) == ["mean", "ci95", "p50", "p85"], metric
        values = [run["metrics"][metric] for run in document["runs"]]
        present = [v for v in values if v is not None]
        if not present:
            assert summary == {"mean": None, "ci95": None, "p50": None, "p85": None}
            continue
        assert summary["mean"] == pytest.approx(sum(present) / len(present))
        low, high = summary["ci95"]
        assert low <= summary["mean"] <= high
        assert min(present) <= summary["p50"] <= summary["p85"] <= max(present)
    # the noisy scenario really varies between replications
    done = [run["metrics"]["items_done"] for run in document["runs"]]
    net = [run["metrics"]["net_value"] for run in document["runs"]]
    assert len(set(net)) > 1 or len(set(done)) > 1


def test_run_seed_and_reporting_flags(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario(NOISY_SCENARIO)
    code, out, _ = invoke(
        capsys, "run", str(path), "--strategy", "value+green", "--seed", "99", "--json"
    )
    assert code == 0
    document = json.loads(out)
    assert (document["strategy"], document["reporting"], document["seed"]) == ("value", "green", 99)
    assert document["runs"][0]["seed"] == replication_seed(99, 0)
    code, out, _ = invoke(capsys, "run", str(path), "--reporting", "optimistic", "--json")
    assert json.loads(out)["reporting"] == "optimistic"


def test_run_prints_a_table_by_default(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario(TINY_SCENARIO)
    code, out, err = invoke(capsys, "run", str(path), "--runs", "2")
    assert code == 0, err
    assert err == ""
    assert "Tiny · fifo+honest · seed 7 · 2 runs" in out
    header = next(line for line in out.splitlines() if "metric" in line)
    assert re.search(r"metric\s.*mean\s.*ci95\s.*p50\s.*p85", header)
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    for metric in METRIC_NAMES:
        assert metric in rows, metric
    # no slippage: both replications deliver all six items in 20 days
    assert re.search(
        r"items_done\s+│\s+6\.00\s+│\s+6\.00 – 6\.00\s+│\s+6\.00\s+│\s+6\.00", rows["items_done"]
    )


def test_run_out_writes_every_file(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_scenario(NOISY_SCENARIO)
    out_dir = tmp_path / "results" / "noisy"
    code, out, err = invoke(
        capsys, "run", str(path), "--runs", "3", "--json", "--out", str(out_dir)
    )
    assert code == 0, err
    document = json.loads(out)
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "events.jsonl", "flow.csv", "items.csv", "run.json", "runs.csv"
    ]  # fmt: skip
    assert json.loads((out_dir / "run.json").read_text()) == document

    with (out_dir / "runs.csv").open(newline="") as handle:
        runs = list(csv.DictReader(handle))
    assert list(runs[0]) == ["replication", "seed", *METRIC_NAMES]
    assert [int(row["replication"]) for row in runs] == [0, 1, 2]
    for row, run in zip(runs, document["runs"], strict=True):
        assert int(row["seed"]) == run["seed"]
        for metric, value in run["metrics"].items():
            assert (float(row[metric]) if row[metric] else None) == value, metric

    columns = [c["name"] for c in NOISY_SCENARIO["workflow"]]
    with (out_dir / "items.csv").open(newline="") as handle:
        items = list(csv.DictReader(handle))
    assert list(items[0]) == ["replication", *item_fields(columns)]
    assert {row["replication"] for row in items} == {"0", "1", "2"}
    for run in document["runs"]:
        rows = [row for row in items if int(row["replication"]) == run["replication"]]
        assert sum(row["state"] == "done" for row in rows) == run["metrics"]["items_done"]
        # six items from the initial backlog arrive at day 0 in every replication
        assert sum(float(row["arrived"]) == 0 for row in rows) >= 6
    done_rows = [row for row in items if row["state"] == "done"]
    assert done_rows
    for row in done_rows:  # every timestamp of a done item is there and in order
        assert float(row["arrived"]) <= float(row["started"]) <= float(row["done"])

    events = [json.loads(line) for line in (out_dir / "events.jsonl").read_text().splitlines()]
    assert events
    assert all(list(event) == ["replication", *RECORD_FIELDS] for event in events)
    assert [e["replication"] for e in events] == sorted(e["replication"] for e in events)
    for run in document["runs"]:
        kinds = [e["kind"] for e in events if e["replication"] == run["replication"]]
        assert kinds.count("done") == run["metrics"]["items_done"]


def test_run_builtin_scenario_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "run", "tutorial", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert len(document["runs"]) == 1
    assert document["runs"][0]["metrics"]["items_done"] >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runs", "0"], "--runs"),
        (["--runs", "ten"], "--runs"),
        (["--jobs", "-1"], "--jobs"),
        (["--seed", "-5"], "--seed"),
        (["--strategy", "loudest-first"], "unknown strategy 'loudest-first'"),
        (["--strategy", "wsjf+rosy"], "unknown reporting policy 'rosy'"),
        (["--reporting", "rosy"], "unknown reporting policy 'rosy'"),
        (["--strategy", "no_such_file.py:Cautious"], "no such file no_such_file.py"),
        (["--no-such-flag"], "--no-such-flag"),
    ],
)
def test_run_bad_flags_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = invoke(capsys, "run", "tutorial", *args)
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert message in line


def test_run_out_must_be_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    code, out, err = invoke(capsys, "run", "tutorial", "--out", str(target))
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert line == f"{target}: --out must be a folder, not a file"


def test_run_bad_scenario_lists_every_problem(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario(
        "posim: 1\nname: Broken\nhorizon_days: -3\nworkflow:\n  - {name: dev, wip: -1}\n"
        "team:\n  - {name: Ana, skills: {design: 1}}\n"
    )
    code, out, err = invoke(capsys, "run", str(path))
    problems = assert_clean_failure(code, out, err, lines=2)
    for line in problems:
        assert PROBLEM_LINE.match(line), line
    assert problems[0].startswith(f"{path}:3: horizon_days: ")
    assert problems[1].startswith(f"{path}:5: workflow.0.wip: ")


def test_run_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = invoke(capsys, "run", str(missing))
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert line.startswith(f"{missing}:") and "No such file" in line


def test_missing_argument_and_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "run")
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert line == "posim run: Missing argument 'scenario'."
    code, out, err = invoke(capsys, "conquer")
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert "conquer" in line


# --------------------------------------------------------------------------
# validate, schema, scenarios, play, help
# --------------------------------------------------------------------------


def test_validate_ok_prints_a_summary_per_file(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario(TINY_SCENARIO, "tiny.yaml")
    code, out, err = invoke(capsys, "validate", str(path), "tutorial")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{path}: ok — Tiny, 2 columns, 2 members, 6 items, 20 days"
    assert lines[1].startswith("tutorial: ok — ")
    assert len(lines) == 2


def test_validate_reports_all_problems_of_all_files(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    good = write_scenario(TINY_SCENARIO, "good.yaml")
    first = write_scenario(
        "posim: 1\nname: A\nhorizon_days: .nan\nworkflow: [{name: dev}]\n"
        "team: [{name: Ana, skills: {dev: 1}}]\nsurprise: 1\n",
        "first.yaml",
    )
    second = write_scenario("- just\n- a list\n", "second.yaml")
    code, out, err = invoke(capsys, "validate", str(first), str(good), str(second))
    problems = assert_clean_failure(code, "", err)
    assert out.splitlines() == [f"{good}: ok — Tiny, 2 columns, 2 members, 6 items, 20 days"]
    from_first = [line for line in problems if line.startswith(f"{first}:")]
    from_second = [line for line in problems if line.startswith(f"{second}:")]
    assert len(from_first) == 2  # the NaN and the unknown key, both at once
    assert any("horizon_days" in line for line in from_first)
    assert any("surprise" in line for line in from_first)
    assert len(from_second) == 1
    assert len(problems) == 3
    for line in from_first:
        assert PROBLEM_LINE.match(line), line


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "schema")
    assert (code, err) == (0, "")
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"posim", "name", "horizon_days", "workflow", "team"} <= set(schema["required"])
    assert "additionalProperties" in json.dumps(schema)


def test_scenarios_json_lists_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "scenarios", "--json")
    assert (code, err) == (0, "")
    entries: list[dict[str, Any]] = json.loads(out)
    assert entries[0]["name"] == "tutorial"
    for entry in entries:
        assert list(entry) == ["name", "title", "level", "description"]
        assert entry["level"] in {"junior", "mid", "senior"}
    code, out, _ = invoke(capsys, "scenarios")
    assert code == 0
    assert all(entry["name"] in out for entry in entries)


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--help")
    assert code == 0
    for command in ("play", "run", "validate", "schema", "scenarios"):
        assert re.search(rf"\b{command}\b", out), command
    code, out, _ = invoke(capsys, "run", "--help")
    assert code == 0
    for flag in ("--strategy", "--reporting", "--seed", "--runs", "--jobs", "--json", "--out"):
        assert flag in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--version")
    assert (code, out) == (0, f"posim {__version__}\n")


# --------------------------------------------------------------------------
# The installed command and python -m posim
# --------------------------------------------------------------------------


def test_python_m_posim_runs_piped_with_nothing_extra(posim_command: list[str]) -> None:
    """Piped (no terminal): stdout is exactly the JSON document, stderr is empty."""
    completed = subprocess.run(
        [*posim_command, "run", "tutorial", "--runs", "2", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert json.loads(completed.stdout)["scenario"]


def test_console_script_reports_errors_without_traceback() -> None:
    script = Path(sys.executable).with_name("posim")
    completed = subprocess.run(
        [str(script), "run", "tutorial", "--strategy", "nope"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.startswith("unknown strategy 'nope'")
    assert "Traceback" not in completed.stderr


def test_play_without_a_terminal_says_so_and_exits(posim_command: list[str]) -> None:
    """No terminal (and no web driver): one line and status 2, not a game spinning blind."""
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"}
    done = subprocess.run(
        [*posim_command, "play"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "posim play needs a terminal (for headless runs use posim run or posim replay)"
    )


# --------------------------------------------------------------------------
# Hardening (issue 12): interrupted --out, unwritable --out, --jobs bound,
# closed stdout, scenario text never read as Rich markup
# --------------------------------------------------------------------------


def test_interrupted_run_out_is_marked_partial_never_a_mix(
    capsys: pytest.CaptureFixture[str],
    write_scenario: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl+C during ``run --out DIR`` over an older complete run: no old run.json beside new rows."""
    import posim.runs

    path = write_scenario(NOISY_SCENARIO)
    out_dir = tmp_path / "results"
    code, _, err = invoke(capsys, "run", str(path), "--runs", "3", "--out", str(out_dir))
    assert code == 0, err
    assert not (out_dir / "PARTIAL").exists()

    simulate_unit = posim.runs._simulate_unit
    seen_while_running: list[set[str]] = []

    def interrupted_at_two(unit: Any) -> Any:
        if unit.replication == 1:
            seen_while_running.append({p.name for p in out_dir.iterdir()})
        if unit.replication == 2:
            raise KeyboardInterrupt
        return simulate_unit(unit)

    monkeypatch.setattr(posim.runs, "_simulate_unit", interrupted_at_two)
    code, out, err = invoke(capsys, "run", str(path), "--runs", "5", "--out", str(out_dir))
    assert code == 130
    assert out == ""
    assert "Traceback" not in err
    assert err.strip() == (
        f"posim run: interrupted: kept 2 of 5 replications in {out_dir} (marked partial)"
    )
    # While it ran, the folder was already marked and the old results were gone
    # (flow.csv is replication 0's, written again as soon as it finished).
    assert seen_while_running == [{"PARTIAL", "items.csv", "events.jsonl", "flow.csv"}]
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "PARTIAL", "events.jsonl", "flow.csv", "items.csv"
    ]  # fmt: skip
    assert (
        (out_dir / "PARTIAL")
        .read_text(encoding="utf-8")
        .startswith("interrupted: 2 of 5 replications finished")
    )
    with (out_dir / "items.csv").open(newline="") as handle:
        assert {row["replication"] for row in csv.DictReader(handle)} == {"0", "1"}

    # A complete run into the same folder takes the mark away.
    monkeypatch.setattr(posim.runs, "_simulate_unit", simulate_unit)
    code, _, err = invoke(capsys, "run", str(path), "--runs", "2", "--out", str(out_dir))
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "events.jsonl", "flow.csv", "items.csv", "run.json", "runs.csv"
    ]  # fmt: skip


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_unwritable_out_is_found_before_any_work(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    import posim.comparison

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("ran before checking --out")

    monkeypatch.setattr(posim.comparison, command, no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "results"
    extra = ["--set", "ready_wip=2,3"] if command == "sweep" else []
    code, out, err = invoke(
        capsys, command, "tutorial", *extra, "--runs", "2", "--no-plots", "--out", str(target)
    )
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert line.startswith(f"{target}: ") and "--out" in line, line


def test_run_unwritable_out_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out, err = invoke(capsys, "run", "tutorial", "--out", str(blocker / "results"))
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert line.startswith(f"{blocker / 'results'}: "), line


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
@pytest.mark.parametrize("jobs", ["too many", "-1"])
def test_jobs_beyond_four_per_core_is_refused(
    capsys: pytest.CaptureFixture[str], command: str, jobs: str
) -> None:
    limit = 4 * (os.cpu_count() or 1)
    value = str(limit + 1) if jobs == "too many" else jobs
    extra = ["--set", "ready_wip=2,3"] if command == "sweep" else []
    code, out, err = invoke(capsys, command, "tutorial", *extra, "--runs", "2", "--jobs", value)
    (line,) = assert_clean_failure(code, out, err, lines=1)
    assert "--jobs" in line
    if jobs == "too many":
        assert f"at most {limit}" in line, line


def test_jobs_at_the_bound_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    limit = 4 * (os.cpu_count() or 1)
    code, _, err = invoke(capsys, "run", "tutorial", "--json", "--jobs", str(limit))
    assert code == 0, err


@pytest.mark.parametrize(
    "args",
    [
        ["run", "tutorial"],
        ["run", "tutorial", "--json"],
        ["scenarios"],
        ["schema"],
        ["validate", "tutorial"],
        ["--help"],
    ],
)
def test_a_closed_stdout_ends_quietly_with_status_0(
    posim_command: list[str], args: list[str]
) -> None:
    """``posim ... | head -1``: the reader went away; no traceback, status 0 (like git log)."""
    process = subprocess.Popen(
        [*posim_command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert process.stdout is not None
    process.stdout.close()  # before posim prints anything (its start-up takes longer)
    _, err = process.communicate(timeout=60)
    assert err == ""
    assert process.returncode == 0


MARKUP_NAME = "Shop [/] [bold red]launch[/bold red]"


def test_run_table_prints_scenario_text_as_is(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario({**TINY_SCENARIO, "name": MARKUP_NAME})
    code, out, err = invoke(capsys, "run", str(path))
    assert code == 0, err
    assert MARKUP_NAME in out


def test_compare_and_oracle_tables_print_scenario_text_as_is(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    backlog = [
        {**item, "title": f"[/]{item['title']}[italic]"} for item in TINY_SCENARIO["backlog"]
    ]
    path = write_scenario({**TINY_SCENARIO, "name": MARKUP_NAME, "backlog": backlog})
    code, out, err = invoke(
        capsys, "compare", str(path), "--strategy", "fifo", "--strategy", "wsjf",
        "--runs", "2", "--executor", "serial", "--oracle",
    )  # fmt: skip
    assert code == 0, err
    assert MARKUP_NAME in out
    assert "[/]Login[italic]" in " ".join(out.split())


def test_sweep_table_prints_scenario_text_as_is(
    capsys: pytest.CaptureFixture[str], write_scenario: Callable[..., Path]
) -> None:
    path = write_scenario({**TINY_SCENARIO, "name": MARKUP_NAME})
    code, out, err = invoke(
        capsys, "sweep", str(path), "--set", "ready_wip=2,3", "--runs", "2",
        "--executor", "serial",
    )  # fmt: skip
    assert code == 0, err
    assert MARKUP_NAME in out


@pytest.mark.parametrize("args", [["scenarios", "--json"], ["schema"], ["validate", "tutorial"]])
def test_a_stdout_that_takes_nothing_is_one_line_not_a_traceback(args: list[str]) -> None:
    """stdout on /dev/full (a full disk) or closed: one line on stderr, status 2."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "posim", *args]
    with open("/dev/full", "w") as full:
        done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["posim: cannot write: No space left on device"]
    closed = subprocess.run(
        command,
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        close_fds=True,
        preexec_fn=lambda: __import__("os").close(1),
    )
    assert closed.returncode == 2, closed.stderr
    assert closed.stderr.splitlines() == ["posim: cannot write to standard output: it is closed"]
