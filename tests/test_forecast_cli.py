"""``posim forecast``: DESIGN section 9's semantics and JSON, exit codes, charts, flow.csv."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from pathlib import Path

import pytest

import posim
from posim.cli import main

D = dt.date


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), out, err


def closed_csv(tmp_path: Path, done: list[D], name: str = "closed.csv") -> Path:
    path = tmp_path / name
    lines = ["Key,Summary,Resolved"] + [
        f"T-{i},Item {i},{d.isoformat()}" for i, d in enumerate(done)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def team_history(days: int = 90, seed: int = 4, start: D = D(2023, 10, 2)) -> list[D]:
    """About 1.2 items a calendar day, none on weekends, some days with none."""
    rng = random.Random(seed)
    done = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day.weekday() < 5:
            done += [day] * rng.choice((0, 0, 1, 2, 2, 3))
    return done


def exact_when(daily: list[int], items: int, level: int) -> int:
    """min{d : P(S_d >= items) >= p}: plain-Python convolution, independent of posim."""
    p = {v: daily.count(v) / len(daily) for v in set(daily)}
    below = [0.0] * items
    below[0] = 1.0
    day = 0
    while True:
        day += 1
        step = [0.0] * items
        for total, mass in enumerate(below):
            for value, q in p.items():
                if mass and total + value < items:
                    step[total + value] += mass * q
        below = step
        if 1 - sum(below) >= level / 100 - 1e-12:
            return day


def exact_how_many(daily: list[int], days: int, level: int) -> int:
    """max{c : P(S_days >= c) >= p}."""
    dist = {0: 1.0}
    for _ in range(days):
        nxt: dict[int, float] = {}
        for total, mass in dist.items():
            for value in daily:
                nxt[total + value] = nxt.get(total + value, 0.0) + mass / len(daily)
        dist = nxt
    tail = 0.0
    for count in sorted(dist, reverse=True):
        tail += dist[count]
        if tail >= level / 100 - 1e-12:
            return count
    return 0


def test_json_has_exactly_the_design_shape(capsys, tmp_path: Path) -> None:
    done = team_history()
    path = closed_csv(tmp_path, done)
    code, out, err = invoke(
        capsys,
        "forecast",
        str(path),
        "--when",
        "30",
        "--by",
        "2024-02-01",
        "--days",
        "30",
        "--json",
    )
    assert code == 0, err
    document = json.loads(out)
    assert list(document) == ["posim", "source", "history", "when", "how_many", "trials", "seed"]
    assert document["posim"] == posim.__version__
    assert document["source"] == "closed.csv"
    last = max(done)
    assert document["history"] == {
        "first": min(done).isoformat(),
        "last": last.isoformat(),
        "days": (last - min(done)).days + 1,
        "items": len(done),
        "working_days": False,
    }
    when = document["when"]
    assert list(when) == ["items", "start", "percentiles", "by"]
    assert when["start"] == (last + dt.timedelta(days=1)).isoformat()
    assert list(when["percentiles"]) == ["50", "70", "85", "95"]
    for entry in when["percentiles"].values():
        assert entry["date"] == (last + dt.timedelta(days=entry["days"])).isoformat()
    assert 0 <= when["by"]["chance"] <= 1 and when["by"]["date"] == "2024-02-01"
    how = document["how_many"]
    assert how["days"] == 30 and how["until"] == (last + dt.timedelta(days=30)).isoformat()
    counts = list(how["percentiles"].values())
    assert counts == sorted(counts, reverse=True)  # more confidence, fewer items
    assert document["trials"] == 10_000 and document["seed"] == 1
    # Only what was asked: no how_many without --days/--until, no by without --by.
    code, out, _ = invoke(capsys, "forecast", str(path), "--when", "30", "--json")
    assert code == 0
    document = json.loads(out)
    assert "how_many" not in document and "by" not in document["when"]
    code, out, _ = invoke(capsys, "forecast", str(path), "--days", "10", "--json")
    assert "when" not in json.loads(out)


@pytest.mark.parametrize("working_days", [False, True])
def test_percentiles_equal_the_exact_computation(
    capsys, tmp_path: Path, working_days: bool
) -> None:
    done = team_history()
    # Two Saturday deliveries: with --working-days they count on the Monday after.
    done += [D(2023, 11, 4), D(2023, 11, 4)]
    path = closed_csv(tmp_path, done)
    flags = ["--working-days"] if working_days else []
    code, out, err = invoke(
        capsys, "forecast", str(path), "--when", "40", "--days", "15", "--json", *flags
    )
    assert code == 0, err
    document = json.loads(out)
    # The window's daily counts, built here from the dates.
    first, last = min(done), max(done)
    if working_days:
        moved = [d + dt.timedelta(days=7 - d.weekday()) if d.weekday() >= 5 else d for d in done]
        days = [
            first + dt.timedelta(days=k)
            for k in range((last - first).days + 1)
            if (first + dt.timedelta(days=k)).weekday() < 5
        ]
        daily = [moved.count(day) for day in days]
    else:
        daily = [done.count(first + dt.timedelta(days=k)) for k in range((last - first).days + 1)]
    assert document["history"]["days"] == len(daily)
    assert document["history"]["items"] == sum(daily) == len(done)
    for level in (50, 70, 85, 95):
        got = document["when"]["percentiles"][str(level)]["days"]
        assert abs(got - exact_when(daily, 40, level)) <= 1, level
        got = document["how_many"]["percentiles"][str(level)]
        assert abs(got - exact_how_many(daily, 15, level)) <= 1, level
    if working_days:  # dates skip weekends
        for entry in document["when"]["percentiles"].values():
            assert D.fromisoformat(entry["date"]).weekday() < 5


def test_history_window_from_and_until(capsys, tmp_path: Path) -> None:
    done = team_history()
    path = closed_csv(tmp_path, done)
    code, out, _ = invoke(
        capsys,
        "forecast",
        str(path),
        "--history",
        "28",
        "--from",
        "2024-01-05",
        "--until",
        "2024-01-19",
        "--when",
        "10",
        "--json",
    )
    assert code == 0
    document = json.loads(out)
    last = max(done)
    assert document["history"]["first"] == (last - dt.timedelta(days=27)).isoformat()
    assert document["history"]["days"] == 28
    assert document["history"]["items"] == sum(1 for d in done if d > last - dt.timedelta(days=28))
    assert document["when"]["start"] == "2024-01-06"
    assert document["how_many"]["days"] == 14
    assert document["how_many"]["until"] == "2024-01-19"


def test_same_seed_same_output_and_seed_matters(capsys, tmp_path: Path) -> None:
    path = closed_csv(tmp_path, team_history())
    args = ["forecast", str(path), "--when", "25", "--days", "20", "--trials", "500", "--json"]
    first = invoke(capsys, *args)[1]
    assert invoke(capsys, *args)[1] == first
    others = {invoke(capsys, *args, "--seed", str(s))[1] for s in range(2, 7)}
    assert len(others | {first}) > 1


def test_table_states_the_assumptions(capsys, tmp_path: Path) -> None:
    done = team_history()
    path = closed_csv(tmp_path, done)
    code, out, _ = invoke(capsys, "forecast", str(path), "--when", "20", "--by", "2024-01-20")
    assert code == 0
    days = (max(done) - min(done)).days + 1
    assert f"Throughput sampled from {days} calendar days, {min(done)} to {max(done)}" in out
    assert "with none" in out and "assumes the next weeks look like these" in out
    assert "Chance of 20 items done by 2024-01-20:" in out
    assert "85 %" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--when", "0"], "--when must be at least 1 item, got 0"),
        (["--by", "2024-03-01"], "--by needs --when N"),
        (["--days", "5", "--until", "2024-03-01"], "give --days or --until, not both"),
        (
            ["--when", "5", "--by", "2023-12-01"],
            "--by 2023-12-01 must be after the forecast's start",
        ),
        (["--until", "2023-12-01"], "--until 2023-12-01: at least one day must lie ahead"),
        (
            ["--when", "5", "--by", "tomorrow"],
            "--by: 'tomorrow' is not a date (expected YYYY-MM-DD)",
        ),
        (["--history", "1", "--when", "3"], "--history must be at least 2 days, got 1"),
    ],
)
def test_bad_questions_exit_2_with_one_line(
    capsys, tmp_path: Path, args: list[str], message: str
) -> None:
    path = closed_csv(tmp_path, team_history())
    code, out, err = invoke(capsys, "forecast", str(path), *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert "Traceback" not in err


def test_histories_that_cannot_be_forecast_exit_2(capsys, tmp_path: Path) -> None:
    one_day = closed_csv(tmp_path, [D(2024, 1, 2)] * 3, "one_day.csv")
    code, _, err = invoke(capsys, "forecast", str(one_day), "--when", "5")
    assert code == 2
    assert "a window of one day says nothing about how throughput varies" in err
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("Key,Resolved\nA,\nB,\n", encoding="utf-8")
    code, _, err = invoke(capsys, "forecast", str(nothing), "--when", "5")
    assert code == 2 and "no item has a done date" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    code, _, err = invoke(capsys, "forecast", str(empty), "--when", "5")
    assert (
        code == 2 and err.strip() == f"{empty}: the file is empty (expected a header line and rows)"
    )
    code, _, err = invoke(capsys, "forecast", str(tmp_path / "missing.csv"), "--when", "5")
    assert code == 2 and "missing.csv" in err and "Traceback" not in err
    bad = tmp_path / "bad.csv"
    bad.write_text("Key,Resolved\nA,2024-01-02\nB,someday\n", encoding="utf-8")
    code, _, err = invoke(capsys, "forecast", str(bad), "--when", "5")
    assert code == 2 and err.startswith(f"{bad}:3: column 'Resolved': 'someday' is not a date")
    code, _, err = invoke(capsys, "forecast", str(bad), "--when", "5", "--trials", "0")
    assert code == 2 and "--trials" in err


def test_out_writes_the_json_and_the_charts(capsys, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    flow = tmp_path / "run"
    code, _, err = invoke(capsys, "run", "tutorial", "--out", str(flow))
    assert code == 0, err
    out = tmp_path / "forecast"
    code, stdout, err = invoke(
        capsys,
        "forecast",
        str(flow / "flow.csv"),
        "--when",
        "10",
        "--days",
        "10",
        "--working-days",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "cycle_time.svg",
        "forecast.json",
        "how_many.svg",
        "throughput.svg",
        "when.svg",
    ]
    assert json.loads((out / "forecast.json").read_text()) == json.loads(stdout)
    first = (out / "when.svg").read_bytes()
    invoke(
        capsys,
        "forecast",
        str(flow / "flow.csv"),
        "--when",
        "10",
        "--working-days",
        "--out",
        str(out),
    )
    assert (out / "when.svg").read_bytes() == first  # byte-stable
    assert b"85%" in first


# --- flow.csv ----------------------------------------------------------------------------


def test_run_out_writes_flow_csv_in_the_design_layout(capsys, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, _, err = invoke(
        capsys, "run", "tutorial", "--out", str(out), "--start-date", "2024-01-01"
    )
    assert code == 0, err
    with open(out / "flow.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "ID",
        "Link",
        "Name",
        "Backlog",
        "Ready",
        "analysis",
        "development",
        "test",
        "Done",
        "Type",
        "Class",
        "Requester",
    ]
    with open(out / "items.csv", encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))
    first = [i for i in items if i["replication"] == "0"]
    kept = [i for i in first if i["state"] not in ("inbox", "declined")]
    assert len(rows) - 1 == len(kept)
    by_id = {row[0]: row for row in rows[1:]}
    for item in kept:
        row = by_id[item["id"]]
        for column, key in ((3, "arrived"), (4, "committed"), (8, "done")):
            if item[key] == "":
                assert row[column] == ""
                continue
            day = math.floor(float(item[key]))
            weeks, weekday = divmod(day, 5)
            assert (
                row[column] == (D(2024, 1, 1) + dt.timedelta(days=7 * weeks + weekday)).isoformat()
            )
    history = posim.read_history(out / "flow.csv")
    assert history.work_columns == ("analysis", "development", "test")


def test_compare_out_writes_a_flow_file_per_strategy_even_without_plots(
    capsys, tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    code, _, err = invoke(
        capsys,
        "compare",
        "tutorial",
        "--strategy",
        "fifo",
        "--strategy",
        "wsjf+green",
        "--runs",
        "2",
        "--jobs",
        "1",
        "--out",
        str(out),
        "--no-plots",
    )
    assert code == 0, err
    assert (out / "flow-fifo.csv").exists() and (out / "flow-wsjf+green.csv").exists()
    run = tmp_path / "run"
    invoke(capsys, "run", "tutorial", "--out", str(run))
    # Replication 0 of fifo in compare is replication 0 of run: the same items.
    assert (out / "flow-fifo.csv").read_text() == (run / "flow.csv").read_text()


def test_start_date_must_be_a_monday(capsys, tmp_path: Path) -> None:
    code, out, err = invoke(
        capsys, "run", "tutorial", "--out", str(tmp_path), "--start-date", "2025-01-07"
    )
    assert code == 2 and out == ""
    assert (
        err.strip()
        == "--start-date: --start-date 2025-01-07 is a Tuesday; it must be a Monday (day 0 of a run is a Monday)"
    )
    code, _, err = invoke(capsys, "run", "tutorial", "--start-date", "soon")
    assert code == 2 and "'soon' is not a date" in err


# --- Python API ----------------------------------------------------------------------------


def test_python_api(tmp_path: Path) -> None:
    path = closed_csv(tmp_path, team_history())
    history = posim.read_history(path)
    when = posim.forecast_when(history, 30, by=D(2024, 2, 1), trials=2000, seed=3)
    assert when.items == 30 and when.chance is not None
    assert list(when.days) == [50, 70, 85, 95]
    assert when.days[50] <= when.days[95]
    how = posim.forecast_how_many(history, 20, trials=2000, seed=3)
    assert how.items[50] >= how.items[95]
    assert posim.forecast_when(path, 30, trials=2000, seed=3).days == when.days  # a path works too


def test_the_assumptions_line_counts_in_good_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.csv"
    path.write_text("ID,Done\n1,2024-01-01\n2,2024-01-03\n3,2024-01-03\n", encoding="utf-8")
    status, out, _err = invoke(capsys, "forecast", str(path), "--when", "2")
    assert status == 0
    assert "3 items done, 1.00 a day, 1 day (33%) with none." in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--when", "3", "--history", "1000000"], "--history must be at most 36,500 days"),
        (["--days", "100000000"], "--days must be at most 36,500 days"),
        (["--when", "3", "--from", "9999-12-30"], "the forecast's dates would leave the calendar"),
    ],
)
def test_dates_past_the_calendar_are_errors_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    path = tmp_path / "h.csv"
    path.write_text("ID,Done\n1,2024-01-01\n2,2024-01-03\n3,2024-01-03\n", encoding="utf-8")
    status, _out, err = invoke(capsys, "forecast", str(path), *args)
    assert status == 2
    assert err.startswith(expected) and len(err.splitlines()) == 1
