"""``posim calibrate``: a scenario fitted to stage dates behaves like the team (round trip)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import posim
from posim.calibration import CalibrationError, backtest, fit
from posim.cli import main
from posim.engine import ORDERINGS, simulate
from posim.flowcsv import write_flow_csv
from posim.history import read_history
from posim.scenario import Scenario, load_scenario


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), out, err


def three_columns(horizon: float, *, name: str) -> dict[str, Any]:
    """Analysis, development, test; about 0.83 requests a day."""
    return {
        "posim": 1,
        "name": name,
        "horizon_days": horizon,
        "workflow": [{"name": "analysis"}, {"name": "development"}, {"name": "test"}],
        "team": [
            {"name": "Ana", "count": 2, "skills": {"analysis": 1.0}},
            {"name": "Dev", "count": 4, "skills": {"development": 1.0}},
            {"name": "Tess", "count": 2, "skills": {"test": 1.0}},
        ],
        "stakeholders": [
            {
                "name": "Sales",
                "requests": {"every": {"dist": "exponential", "mean": 1.2}, "template": "task"},
            }
        ],
        "templates": {
            "task": {
                "effort": {
                    "analysis": {"dist": "uniform", "low": 0.6, "high": 2.4},
                    "development": {"dist": "triangular", "low": 1.5, "mode": 3, "high": 9},
                    "test": 1.2,
                }
            }
        },
    }


def busy_development(horizon: float) -> dict[str, Any]:
    """Four developers at about 93 % of their capacity: items queue before development."""
    return three_columns(horizon, name="busy-development")


def single_tester(horizon: float) -> dict[str, Any]:
    """One tester with exponential work at about 83 % utilisation: the bottleneck."""
    document = three_columns(horizon, name="tester-bottleneck")
    document["team"][2]["count"] = 1
    document["templates"]["task"]["effort"]["test"] = {"dist": "exponential", "mean": 1.0}
    return document


def slippage(horizon: float) -> dict[str, Any]:
    """Effort noise, defects sent back for rework, blockers, and a Ready limit."""
    document = three_columns(horizon, name="slippage")
    document["ready_wip"] = 4
    document["slippage"] = {
        "effort_sigma": 0.5,
        "defect_rate": 0.2,
        "rework_fraction": 0.3,
        "blocker_rate": 0.1,
        "blocker_days": {"dist": "exponential", "mean": 2},
    }
    document["stakeholders"][0]["requests"]["every"]["mean"] = 1.5
    return document


def flow_file(tmp_path: Path, document: dict[str, Any], seed: int = 5) -> tuple[Path, int]:
    """Run the scenario (as `posim run --out` does) and write its flow.csv."""
    scenario = Scenario.model_validate(document)
    result = simulate(scenario, strategy="fifo", seed=seed, keep_records=True)
    path = tmp_path / f"{scenario.name}.csv"
    write_flow_csv(path, result.items, scenario.activities)
    return path, int(result.metrics["items_done"] or 0)


@pytest.mark.parametrize("make", [busy_development, single_tester, slippage])
def test_round_trip_throughput_and_cycle_time_within_15_percent(tmp_path: Path, make) -> None:
    path, done = flow_file(tmp_path, make(500))
    assert done >= 300
    fitted = fit(read_history(path))
    result = backtest(fitted, runs=5, seed=2)
    rows = {row.measure: row for row in result.rows}
    for measure in ("throughput per day", "cycle time p50", "cycle time p85", "cycle time p95"):
        row = rows[measure]
        assert row.difference is not None
        assert abs(row.difference) <= 0.15, (measure, row)
    assert fitted.observed.done >= 300


def test_round_trip_through_the_command_line(capsys, tmp_path: Path) -> None:
    run = tmp_path / "run"
    document = single_tester(160)
    scenario_file = tmp_path / "team.json"
    scenario_file.write_text(json.dumps(document), encoding="utf-8")
    code, _, err = invoke(capsys, "run", str(scenario_file), "--out", str(run))
    assert code == 0, err
    output = tmp_path / "fitted" / "team.yaml"
    code, out, err = invoke(capsys, "calibrate", str(run / "flow.csv"), "-o", str(output))
    assert code == 0, err
    assert out.startswith(f"Wrote {output}\n")
    for measure in ("throughput per day", "cycle time p50", "cycle time p85", "cycle time p95"):
        assert measure in out
    for column in ("analysis", "development", "test"):
        assert f"WIP {column}" in out
    assert "difference" in out
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Scenario fitted by `posim calibrate`")
    assert "Dates cannot tell value, cost of delay" in text
    # The file validates and runs with every built-in ordering and reporting policy.
    code, out, err = invoke(capsys, "validate", str(output))
    assert code == 0, err
    fitted = load_scenario(output)
    assert fitted.activities == ["analysis", "development", "test"]
    assert fitted.horizon_days in (159, 160)  # first arrival to last done
    for ordering in ORDERINGS:
        for reporting in ("honest", "optimistic", "green"):
            result = simulate(fitted, strategy=ordering, reporting=reporting, seed=1)
            assert (result.metrics["items_done"] or 0) > 50, (ordering, reporting)
    code, out, err = invoke(
        capsys, "calibrate", str(run / "flow.csv"), "-o", str(output), "--runs", "2", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["backtest"]["runs"] == 2
    measures = [row["measure"] for row in document["backtest"]["rows"]]
    assert measures[:4] == [
        "throughput per day",
        "cycle time p50",
        "cycle time p85",
        "cycle time p95",
    ]


def test_calendar_days_and_history_window(tmp_path: Path) -> None:
    path, _ = flow_file(tmp_path, busy_development(120))
    history = read_history(path)
    working = fit(history)
    calendar = fit(history, working_days=False)
    # 120 working days are 24 weeks: about 7/5 as many calendar days.
    assert working.horizon in (119, 120)
    assert calendar.horizon == pytest.approx(working.horizon * 7 / 5, abs=3)
    assert "calendar days" in calendar.yaml
    recent = fit(history, history_days=60)
    assert recent.horizon == 60
    assert recent.scenario.horizon_days == 60
    assert posim.calibrate(history).horizon_days == working.horizon


def test_what_cannot_be_calibrated_is_an_error(capsys, tmp_path: Path) -> None:
    closed = tmp_path / "closed.csv"
    closed.write_text("Key,Resolved\nA,2024-01-02\nB,2024-01-03\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match="needs stage dates"):
        fit(read_history(closed))
    code, out, err = invoke(capsys, "calibrate", str(closed), "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and out == ""
    assert err.strip().startswith(f"{closed}: calibrate needs stage dates")
    few = tmp_path / "few.csv"
    few.write_text(
        "ID,Backlog,Doing,Done\n1,2024-01-01,2024-01-02,2024-01-03\n2,2024-01-01,2024-01-02,\n",
        encoding="utf-8",
    )
    code, _, err = invoke(capsys, "calibrate", str(few), "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and "1 items done; calibrating needs at least 10" in err
    assert not (tmp_path / "x.yaml").exists()
    code, _, err = invoke(capsys, "calibrate", str(tmp_path / "missing.csv"), "-o", "x.yaml")
    assert code == 2 and "Traceback" not in err
    code, _, err = invoke(capsys, "calibrate", str(few))
    assert code == 2 and "--output" in err


def test_a_saturated_history_is_throttled_to_its_pace(tmp_path: Path) -> None:
    # Requests at about 1.4 a day for a team with WIP limits that finishes about 0.9:
    # the backlog grows, the columns stay at their limits.
    document = busy_development(400)
    document["name"] = "overloaded"
    document["ready_wip"] = 3
    for column, limit in zip(document["workflow"], (3, 6, 2), strict=True):
        column["wip"] = limit
    document["stakeholders"][0]["requests"]["every"]["mean"] = 0.7
    path, done = flow_file(tmp_path, document)
    assert done >= 300
    fitted = fit(read_history(path))
    assert "# Saturated:" in fitted.yaml
    first = fitted.scenario.team[0]
    assert first.count == fitted.scenario.workflow[0].wip  # the throttle: few people, busy
    rows = {row.measure: row for row in backtest(fitted, runs=3, seed=2).rows}
    for measure in ("throughput per day", "cycle time p50", "cycle time p85", "cycle time p95"):
        assert abs(rows[measure].difference or 0) <= 0.15, (measure, rows[measure])
    # The throttle is what holds the pace: with the first column's people as in an
    # unsaturated fit, the same scenario runs at the arrival rate.
    loose = yaml.safe_load(fitted.yaml)
    loose["team"][0]["count"] = loose["workflow"][0]["wip"] = 40
    result = simulate(Scenario.model_validate(loose), strategy="fifo", seed=2)
    assert result.metrics["throughput_per_day"] > 1.3 * rows["throughput per day"].history


def test_a_history_beyond_posims_limits_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 300 items in Dev at once: a team of 300 people, more than a scenario may hold.
    rows = [f"X{i},2025-01-06,2025-01-06,2025-01-{7 + i % 3:02d}\n" for i in range(300)]
    path = tmp_path / "huge.csv"
    path.write_text("ID,Backlog,Dev,Done\n" + "".join(rows), encoding="utf-8")
    status, _out, err = invoke(capsys, "calibrate", str(path), "-o", str(tmp_path / "s.yaml"))
    assert status == 2 and "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}: the fitted scenario is beyond posim's limits")
    assert any("team.0.count: must be <= 200 (got 300)" in line for line in lines[1:])
    assert not (tmp_path / "s.yaml").exists()
