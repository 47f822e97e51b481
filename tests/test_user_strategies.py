"""User strategies: ``file.py:Class`` and ``module:Class`` specs, the example, and clear errors."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import NOISY_SCENARIO, REPO_ROOT

from posim.cli import main
from posim.comparison import compare
from posim.engine import METRIC_NAMES, simulate
from posim.scenario import Scenario

EXAMPLE = REPO_ROOT / "examples" / "cautious_po.py"

FIFO_CLONE = textwrap.dedent(
    """
    class FifoClone:
        name = "fifo clone"

        def priority(self, item, now):
            return (item.arrived, item.id)
    """
)


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_a_user_strategy_that_copies_fifo_pairs_exactly(
    noisy_scenario: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "clone.py"
    path.write_text(FIFO_CLONE, encoding="utf-8")
    spec = f"{path}:FifoClone"
    result = compare(noisy_scenario, ["fifo", spec], runs=6, executor="process", jobs=2)
    assert result.strategies == ["fifo", spec]
    for metric in METRIC_NAMES:
        assert result.values[spec][metric] == result.values["fifo"][metric]


def test_module_class_spec_and_reporting_suffix(
    noisy_scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_strategies.py").write_text(FIFO_CLONE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = compare(
        noisy_scenario,
        ["fifo+green", "my_strategies:FifoClone+green"],
        runs=3,
        executor="serial",
    )
    assert result.specs["my_strategies:FifoClone+green"].ordering == "my_strategies:FifoClone"
    assert result.specs["my_strategies:FifoClone+green"].reporting == "green"
    assert result.paired["my_strategies:FifoClone+green"]["net_value"]["mean_diff"] == 0.0


def test_the_example_strategy_runs_and_triages(noisy_scenario: Scenario) -> None:
    spec = f"{EXAMPLE}:Cautious"
    result = compare(
        noisy_scenario, ["wsjf", spec, f"{spec}+optimistic"], runs=4, executor="serial"
    )
    assert result.runs == 4
    assert result.summary[spec]["items_done"]["mean"] > 0
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        from cautious_po import Cautious
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    strategy = Cautious()
    board = type("Board", (), {"backlog": tuple(range(Cautious.backlog_limit))})()
    cheap = type("Item", (), {"value": 100.0, "estimate_total": 2.0})()
    dear = type("Item", (), {"value": 1000.0, "estimate_total": 2.0})()
    assert strategy.triage(cheap, board) is False
    assert strategy.triage(dear, board) is True
    # with many cheap requests the backlog grows long and the engine's triage hook declines some
    busy = Scenario.model_validate(
        {
            **NOISY_SCENARIO,
            "ready_wip": 2,
            "stakeholders": [
                {"name": "Sales", "requests": {"every": 0.5, "template": "feature"}},
            ],
            "templates": {
                "feature": {"value": 50, "cost_of_delay": 5, "effort": {"development": 1}}
            },
        }
    )
    cautious = simulate(busy, spec, seed=1, keep_records=True)
    declined = [row for row in cautious.items if row.get("declined") is not None]
    accepted = [row for row in cautious.items if row.get("committed") is not None]
    assert declined and accepted
    assert all(row.get("declined") is None for row in simulate(busy, "fifo", seed=1).items)


def test_the_example_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(
        capsys,
        "compare",
        "tutorial",
        "--strategy",
        "fifo",
        "--strategy",
        "examples/cautious_po.py:Cautious+honest",
        "--runs",
        "3",
        "--executor",
        "serial",
        "--json",
    )
    assert code == 0, err
    document = json.loads(out)
    assert list(document["strategies"]) == ["fifo", "examples/cautious_po.py:Cautious+honest"]


@pytest.mark.parametrize(
    ("source", "spec", "message"),
    [
        (None, "{dir}/missing.py:Cautious", "no such file {dir}/missing.py"),
        (FIFO_CLONE, "{file}:Nope", "has no class 'Nope'"),
        (
            "class Lazy:\n    name = 'lazy'\n",
            "{file}:Lazy",
            "Lazy has no method priority(item, now) -> sort key",
        ),
        ("class Broken(:\n", "{file}:Broken", "importing {file} failed"),
        (
            "class Needy:\n    def __init__(self, x):\n        pass\n"
            "    def priority(self, item, now):\n        return 0\n",
            "{file}:Needy",
            "Needy() failed",
        ),
        (None, "no_such_module_here:Class", "cannot import module no_such_module_here"),
    ],
)
def test_loading_errors_are_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    source: str | None,
    spec: str,
    message: str,
) -> None:
    file = tmp_path / "strategy.py"
    if source is not None:
        file.write_text(source, encoding="utf-8")
    values: dict[str, Any] = {"dir": tmp_path, "file": file}
    code, out, err = invoke(
        capsys,
        "compare",
        "tutorial",
        "--strategy",
        "fifo",
        "--strategy",
        spec.format(**values),
        "--runs",
        "2",
    )
    assert code == 2 and out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert message.format(**values) in lines[0]


def test_noisy_fixture_is_the_one_used_here() -> None:
    assert Scenario.model_validate(NOISY_SCENARIO).name == "Noisy"


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_strategy_that_raises_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    buggy = tmp_path / "buggy.py"
    buggy.write_text("class Buggy:\n    def priority(self, item, now):\n        return 1 / 0\n")
    spec = f"{buggy}:Buggy"
    args = ["run", "tutorial", "--strategy", spec] if command == "run" else [
        "compare", "tutorial", "--strategy", "fifo", "--strategy", spec, "--runs", "2"
    ]  # fmt: skip
    code, out, err = invoke(capsys, *args)
    assert code == 2
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "priority() raised ZeroDivisionError: division by zero" in lines[0]
