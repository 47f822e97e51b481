"""posim sweep: one parameter over many values, each validated, on common random numbers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest

from posim.cli import main
from posim.comparison import CompareError, parse_setting, scenario_with, sweep
from posim.engine import METRIC_NAMES, replication_seed, simulate
from posim.scenario import Scenario

FIVE_ONE_DAY_ITEMS: dict[str, Any] = {
    "posim": 1,
    "name": "Five one-day items",
    "horizon_days": 2.5,
    "workflow": [{"name": "development"}],
    "team": [{"name": "Dev", "skills": {"development": 1.0}}],
    "backlog": [
        {"title": f"Item {n}", "value": 100, "cost_of_delay": 10, "effort": {"development": 1}}
        for n in range(1, 6)
    ],
}
"""Five one-day items, one column, no slippage: easy to count by hand."""


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), out, err


# --------------------------------------------------------------------------
# --set PATH=VALUES
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "values"),
    [
        ("workflow.development.wip=1..4", "workflow.development.wip", [1, 2, 3, 4]),
        ("team.Dev.count=2..10:4", "team.Dev.count", [2, 6, 10]),
        (
            "stakeholders.Sales.requests.every.mean=2,4,8",
            "stakeholders.Sales.requests.every.mean",
            [2, 4, 8],
        ),
        ("slippage.effort_sigma=0,0.25,0.5", "slippage.effort_sigma", [0, 0.25, 0.5]),
        ("ready_wip=none,2, 4", "ready_wip", [None, 2, 4]),
        ("cadence.mode=kanban,scrum", "cadence.mode", ["kanban", "scrum"]),
    ],
)
def test_parse_setting(text: str, path: str, values: list[Any]) -> None:
    setting = parse_setting(text)
    assert (setting.path, setting.values) == (path, values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workflow.development.wip", "expected PATH=VALUES"),
        ("=1,2", "expected PATH=VALUES"),
        ("ready_wip=5..1", "a range goes up"),
        ("ready_wip=1,,2", "empty value in the list"),
        ("ready_wip=1,2,1", "a value is given twice"),
        ("ready_wip=1..1000", "at most 200 values"),
        ("slippage.effort_sigma=nan", "not a finite number"),
    ],
)
def test_bad_settings(text: str, message: str) -> None:
    with pytest.raises(CompareError, match=message):
        parse_setting(text)


def test_scenario_with_addresses_list_entries_by_name(tiny_scenario: Scenario) -> None:
    changed = scenario_with(tiny_scenario, "workflow.development.wip", 5)
    assert [column.wip for column in changed.workflow] == [5, 1]
    assert [column.wip for column in tiny_scenario.workflow] == [2, 1]  # untouched
    assert scenario_with(tiny_scenario, "team.Dev.count", 3).team[0].count == 3
    assert scenario_with(tiny_scenario, "workflow.1.wip", None).workflow[1].wip is None
    assert (
        scenario_with(tiny_scenario, "backlog.Cart.cost_of_delay", 99).backlog[2].cost_of_delay
        == 99
    )
    assert scenario_with(tiny_scenario, "ready_wip", 2).ready_wip == 2
    skilled = scenario_with(tiny_scenario, "team.Tess.skills.development", 0.5)
    assert skilled.team[1].skills == {"test": 1.0, "development": 0.5}


def test_scenario_with_reaches_into_distributions(noisy_scenario: Scenario) -> None:
    changed = scenario_with(noisy_scenario, "stakeholders.Sales.requests.every.mean", 8)
    assert changed.stakeholders[0].requests is not None
    assert changed.stakeholders[0].requests.every.mean_ == 8  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "workflow.dev.wip",
            3,
            "--set workflow.dev.wip: workflow has no entry 'dev'; known: development, test",
        ),
        ("team.Dev.speed", 2, "--set team.Dev.speed: team.Dev has no field 'speed'; known: "),
        ("wip", 2, "--set wip: the scenario has no field 'wip'; known: "),
        (
            "workflow.development.wip",
            0,
            "--set workflow.development.wip=0: workflow.0.wip: must be >= 1",
        ),
        (
            "team.Dev.count",
            "many",
            '--set team.Dev.count="many": team.0.count: expected a whole number',
        ),
        (
            "horizon_days.max",
            3,
            "--set horizon_days.max: horizon_days is 20.0, not a mapping or a list; set horizon_days itself",
        ),
    ],
)
def test_bad_paths_and_values_are_one_clear_line(
    tiny_scenario: Scenario, path: str, value: Any, message: str
) -> None:
    with pytest.raises(CompareError) as error:
        scenario_with(tiny_scenario, path, value)
    lines = str(error.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


# --------------------------------------------------------------------------
# sweep results
# --------------------------------------------------------------------------


def test_sweep_values_known_by_hand() -> None:
    """One, two, three developers on five one-day items over 2.5 days: 2, 4 and 5 done."""
    scenario = Scenario.model_validate(FIVE_ONE_DAY_ITEMS)
    result = sweep(scenario, "team.Dev.count=1..3", "fifo", runs=2, executor="serial")
    assert result.parameter == "team.Dev.count"
    assert result.parameter_values == [1, 2, 3]
    assert result.runs == 2
    done = [summary["items_done"]["mean"] for summary in result.summary]
    assert done == [2.0, 4.0, 5.0]
    assert [summary["throughput_per_day"]["mean"] for summary in result.summary] == [
        2 / 2.5,
        4 / 2.5,
        5 / 2.5,
    ]
    # done on days 1, 2 | 1, 1, 2, 2 | 1, 1, 1, 2, 2
    lead_times = [summary["lead_time_mean"]["mean"] for summary in result.summary]
    assert lead_times == pytest.approx([1.5, 1.5, 7 / 5])
    assert result.summary[0]["items_done"]["ci95"] == [2.0, 2.0]
    paired = result.paired()
    assert paired[0] is None
    assert [entry["items_done"]["mean_diff"] for entry in paired[1:]] == [2.0, 3.0]
    assert paired[2]["items_done"]["comparisons"] == 2


def test_sweep_matches_simulating_each_variant(noisy_scenario: Scenario) -> None:
    result = sweep(
        noisy_scenario, "workflow.development.wip=1,3", "wsjf", runs=3, seed=4, executor="serial"
    )
    assert len(result.summary) == len(result.values) == 2
    for value, per_value in zip([1, 3], result.values, strict=True):
        variant = scenario_with(noisy_scenario, "workflow.development.wip", value)
        for r in range(3):
            direct = simulate(variant, "wsjf", seed=replication_seed(4, r), keep_records=False)
            assert {metric: per_value[metric][r] for metric in METRIC_NAMES} == direct.metrics


def test_sweep_is_the_same_for_every_executor(noisy_scenario: Scenario) -> None:
    serial = sweep(noisy_scenario, "ready_wip=1,2,4", "fifo", runs=4, executor="serial")
    pooled = sweep(noisy_scenario, "ready_wip=1,2,4", "fifo", runs=4, executor="process", jobs=2)
    assert serial.to_json("x") == pooled.to_json("x")


def test_sweep_rejects_every_bad_value_before_running(tiny_scenario: Scenario) -> None:
    with pytest.raises(CompareError) as error:
        sweep(tiny_scenario, "workflow.test.wip=-1,0,2", runs=1)
    assert str(error.value).splitlines() == [
        "--set workflow.test.wip=-1: workflow.1.wip: must be >= 1 (got -1)",
        "--set workflow.test.wip=0: workflow.1.wip: must be >= 1 (got 0)",
    ]


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def test_sweep_json_and_out(
    capsys: pytest.CaptureFixture[str], write_scenario: Any, tmp_path: Path
) -> None:
    path = write_scenario(FIVE_ONE_DAY_ITEMS)
    out_dir = tmp_path / "sweep"
    code, out, err = invoke(
        capsys,
        "sweep",
        str(path),
        "--set",
        "team.Dev.count=1..3",
        "--runs",
        "2",
        "--executor",
        "serial",
        "--json",
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    document = json.loads(out)
    assert (document["parameter"], document["values"], document["strategy"], document["runs"]) == (
        "team.Dev.count",
        [1, 2, 3],
        "fifo",
        2,
    )
    assert [entry["value"] for entry in document["sweep"]] == [1, 2, 3]
    assert [entry["summary"]["items_done"]["mean"] for entry in document["sweep"]] == [2, 4, 5]
    assert list(document["sweep"][0]["summary"]) == list(METRIC_NAMES)
    assert document["sweep"][0]["paired"] is None
    assert document["sweep"][2]["paired"]["items_done"]["mean_diff"] == 3.0
    assert (out_dir / "sweep.json").read_text(encoding="utf-8") == out
    lines = (out_dir / "runs.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("replication,seed,team.Dev.count,items_done,")
    assert len(lines) == 1 + 2 * 3
    assert (
        ElementTree.parse(out_dir / "sweep.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    )


def test_sweep_table(capsys: pytest.CaptureFixture[str], write_scenario: Any) -> None:
    path = write_scenario(FIVE_ONE_DAY_ITEMS)
    code, out, err = invoke(
        capsys,
        "sweep",
        str(path),
        "--set",
        "team.Dev.count=1,3",
        "--runs",
        "2",
        "--executor",
        "serial",
    )
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert rows[0].split("│")[1].strip() == "1"
    assert "2.00 ± 0.00" in rows[0] and "5.00 ± 0.00" in rows[1]
    assert "team.Dev.count" in out and "mean ± half-width" in out


def test_sweep_bad_path_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], write_scenario: Any
) -> None:
    path = write_scenario(FIVE_ONE_DAY_ITEMS)
    code, out, err = invoke(
        capsys, "sweep", str(path), "--set", "team.Bob.count=1,2", "--runs", "1"
    )
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["--set team.Bob.count: team has no entry 'Bob'; known: Dev"]


def test_an_interrupted_sweep_keeps_whole_replications(noisy_scenario: Scenario) -> None:
    finished = 0

    def interrupt_after_five(count: int) -> None:
        nonlocal finished
        finished += count
        if finished == 5:
            raise KeyboardInterrupt

    result = sweep(
        noisy_scenario,
        "ready_wip=1,2",
        runs=6,
        executor="serial",
        progress=interrupt_after_five,
        interruptible=True,
    )
    assert result.partial and result.runs == 2
    assert result.values == sweep(noisy_scenario, "ready_wip=1,2", runs=2, executor="serial").values
    assert result.to_json("x")["runs_requested"] == 6


def test_career_and_sweep_edit_scenarios_one_way(tiny_scenario: Scenario) -> None:
    """career.variant and sweep's scenario_with are both posim.scenario_edits.edited."""
    from posim import career
    from posim.scenario_edits import EditError, edited

    swept = scenario_with(tiny_scenario, "workflow.development.wip", 5)
    assert career.variant(tiny_scenario, {"workflow.development.wip": 5}) == swept
    assert edited(tiny_scenario, {"workflow.development.wip": 5}) == swept
    both = career.variant(tiny_scenario, {"ready_wip": 3, "team.Dev.count": 2})
    assert (both.ready_wip, both.team[0].count) == (3, 2)
    with pytest.raises(EditError, match=r"^team\.Nobody\.count: team has no entry 'Nobody'"):
        career.variant(tiny_scenario, {"team.Nobody.count": 2})
