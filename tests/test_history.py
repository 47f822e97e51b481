"""Reading a team's history (posim.history): layouts, date formats, problems, assumptions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from posim.history import (
    HistoryError,
    add_days,
    days_between,
    from_working_index,
    read_history,
    to_working_day,
    working_index,
)

D = dt.date


def write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, **options: str) -> list[str]:
    with pytest.raises(HistoryError) as caught:
        read_history(path, **options)
    return caught.value.problems


# --- closed dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["2024-03-05", "2024-03-18"], [D(2024, 3, 5), D(2024, 3, 18)]),
        (["2024-03-05T14:30:00Z", "2024-03-18 09:15"], [D(2024, 3, 5), D(2024, 3, 18)]),
        (
            ["2024-03-05T23:30:00+02:00", "2024-03-18T01:00:00.123-05:00"],
            [D(2024, 3, 5), D(2024, 3, 18)],
        ),
        # Month first: a second field above 12 settles the column.
        (["3/5/2024", "3/18/2024"], [D(2024, 3, 5), D(2024, 3, 18)]),
        # Day first: a first field above 12 settles it, for the earlier cell too.
        (["5/3/2024", "18/3/2024"], [D(2024, 3, 5), D(2024, 3, 18)]),
        (["05/03/2024 9:30 PM", "18/03/2024 21:30:15"], [D(2024, 3, 5), D(2024, 3, 18)]),
        # Dotted dates are day first.
        (["5.3.2024", "18.03.2024 08:00"], [D(2024, 3, 5), D(2024, 3, 18)]),
    ],
)
def test_each_accepted_date_format(tmp_path: Path, cells: list[str], expected: list[D]) -> None:
    path = write(tmp_path, "Key,Resolved\n" + "".join(f"A-{i},{c}\n" for i, c in enumerate(cells)))
    history = read_history(path)
    assert history.layout == "closed"
    assert [item.done for item in history.items] == expected
    assert history.done_dates() == sorted(expected)


def test_an_ambiguous_column_is_an_error_naming_file_line_and_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "Title,Closed Date\nA,3/5/2024\nB,4/6/2024\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:2: column 'Closed Date': '3/5/2024' could be month/day")
    assert "--date-format" in problem
    # --date-format settles it.
    history = read_history(path, date_format="%d/%m/%Y")
    assert [item.done for item in history.items] == [D(2024, 5, 3), D(2024, 6, 4)]


def test_a_column_that_is_both_month_first_and_day_first_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "Title,Done\nA,13/1/2024\nB,1/13/2024\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:3: column 'Done': '1/13/2024' is month/day")
    assert "'13/1/2024' (line 2) is day/month" in problem


def test_bad_cells_are_reported_all_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "Title,Done\nA,2024-02-30\nB,2024-03-01\nC,next week\n")
    found = problems(path)
    assert found == [
        f"{path}:4: column 'Done': 'next week' is not a date "
        "(expected YYYY-MM-DD, M/D/YYYY, D/M/YYYY, D.M.YYYY or D/Mon/YY; "
        "for another format pass --date-format)"
    ]
    path = write(tmp_path, "Title,Done\nA,2024-02-30\nB,2024-13-01\n", "days.csv")
    assert problems(path) == [
        f"{path}:2: column 'Done': '2024-02-30' is not a valid date",
        f"{path}:3: column 'Done': '2024-13-01' is not a valid date",
    ]


def test_mixed_formats_in_one_column_are_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "Title,Done\nA,2024-03-05\nB,13/3/2024\n")
    (problem,) = problems(path)
    assert "mixes date formats" in problem and problem.startswith(f"{path}:2:")


def test_empty_files_and_files_without_rows_are_errors(tmp_path: Path) -> None:
    empty = write(tmp_path, "", "empty.csv")
    assert problems(empty) == [f"{empty}: the file is empty (expected a header line and rows)"]
    header = write(tmp_path, "ID,Done\n\n", "header.csv")
    assert problems(header) == [f"{header}: no rows after the header line"]
    missing = tmp_path / "missing.csv"
    (problem,) = problems(missing)
    assert problem.startswith(f"{missing}: ")


def test_no_done_column_is_an_error_and_done_column_names_one(tmp_path: Path) -> None:
    path = write(tmp_path, "Title,Finished on\nA,2024-03-05\nB,2024-03-06\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:1: no column of done dates")
    assert "--done-column" in problem
    history = read_history(path, done_column="finished on")
    assert len(history.done_dates()) == 2
    assert problems(path, done_column="Shipped") == [
        f"{path}:1: no column named 'Shipped' (columns: Title, Finished on)"
    ]


def test_rows_without_a_done_date_are_work_not_finished(tmp_path: Path) -> None:
    path = write(tmp_path, "Key;Summary;Resolution date\nA-1;One;2024-03-05\nA-2;Two;\n")
    history = read_history(path)  # semicolons, as some trackers export
    assert [item.done for item in history.items] == [D(2024, 3, 5), None]
    assert history.items[1].name == "Two"


def test_a_byte_order_mark_and_blank_lines_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffID,Done\n1,2024-01-02\n\n2,2024-01-03\n".encode())
    history = read_history(path)
    assert [item.line for item in history.items] == [2, 4]


def test_a_history_of_one_day_reads_but_is_marked_by_its_dates(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,Done\n1,2024-01-02\n2,2024-01-02\n")
    history = read_history(path)
    assert history.done_dates() == [D(2024, 1, 2)] * 2  # forecast refuses it (test_forecast_cli)


# --- stage dates ---------------------------------------------------------------------------


STAGES = """ID,Link,Name,Backlog,Ready,Analysis,Development,Test,Done,Type,Class
1,http://x/1,First,2024-01-01,2024-01-02,2024-01-03,2024-01-05,2024-01-08,2024-01-09,feature,standard
2,,Second,2024-01-01,2024-01-03,2024-01-04,,2024-01-09,2024-01-10,defect,expedite
3,,Third,2024-01-02,2024-01-04,2024-01-05,2024-01-08,,,feature,standard
"""


def test_stage_dates_layout_columns_commitment_and_attributes(tmp_path: Path) -> None:
    history = read_history(write(tmp_path, STAGES))
    assert history.layout == "stages"
    assert history.stages == ("Backlog", "Ready", "Analysis", "Development", "Test", "Done")
    assert history.commitment == 1
    assert history.work_columns == ("Analysis", "Development", "Test")
    first, second, third = history.items
    assert first.link == "http://x/1" and first.name == "First"
    assert first.attributes == {"Type": "feature", "Class": "standard"}
    assert second.stages[3] is None  # skipped development
    assert third.done is None  # not finished
    assert history.started(first) == D(2024, 1, 3)
    assert history.notes == ()


def test_without_a_commitment_stage_every_middle_stage_is_work(tmp_path: Path) -> None:
    text = "ID,Created,In Progress,Review,Closed\n1,2024-01-01,2024-01-02,2024-01-04,2024-01-05\n"
    history = read_history(write(tmp_path, text))
    assert history.commitment is None
    assert history.work_columns == ("In Progress", "Review")


@pytest.mark.parametrize("name", ["Selected", "committed", "To Do"])
def test_commitment_names(tmp_path: Path, name: str) -> None:
    text = f"ID,Backlog,{name},Doing,Done\n1,2024-01-01,2024-01-02,2024-01-04,2024-01-05\n"
    history = read_history(write(tmp_path, text))
    assert history.commitment == 1
    assert history.work_columns == ("Doing",)


def test_dates_out_of_order_and_after_done_are_stated_assumptions(tmp_path: Path) -> None:
    text = (
        "ID,Backlog,Ready,Doing,Done\n"
        "1,2024-01-05,2024-01-03,2024-01-08,2024-01-09\n"  # Ready before Backlog: moved back
        "2,2024-01-01,2024-01-02,2024-01-12,2024-01-10\n"  # Doing after Done: reopened
        "3,2024-01-01,2024-01-02,2024-01-03,2024-01-04\n"
    )
    path = write(tmp_path, text)
    history = read_history(path)
    moved, reopened, fine = history.items
    assert moved.stages == (D(2024, 1, 5), D(2024, 1, 5), D(2024, 1, 8), D(2024, 1, 9))
    assert reopened.stages[2] == D(2024, 1, 10)
    assert fine.stages[2] == D(2024, 1, 3)
    assert history.notes == (
        "1 item has a stage date earlier than a stage before it (lines 2): read as entering "
        "both on the earlier stage's date.",
        "1 item entered a stage after its done date (lines 3): read as entering it on the "
        "done date.",
    )


def test_stage_date_problems_name_the_cell(tmp_path: Path) -> None:
    text = "ID,Backlog,Doing,Done\n1,2024-01-01,soon,2024-01-04\n2,2024-01-01,2024-01-02,\n3,2024-01-01,2024-01-03,\n"
    path = write(tmp_path, text)
    # Doing is mostly dates: a date column with a bad cell, not a text column.
    assert problems(path) == [
        f"{path}:2: column 'Doing': 'soon' is not a date "
        "(expected YYYY-MM-DD, M/D/YYYY, D/M/YYYY, D.M.YYYY or D/Mon/YY; "
        "for another format pass --date-format)"
    ]
    text = "ID,Backlog,Doing,Done\n1,2024-01-01,2024-01-32,2024-01-04\n1,2024-01-01,2024-01-02,\n,2024-01-01,,\n"
    path = write(tmp_path, text, "stages.csv")
    assert problems(path) == [f"{path}:2: column 'Doing': '2024-01-32' is not a valid date"]
    text = "ID,Backlog,Doing,Done\n1,2024-01-01,2024-01-03,2024-01-04\n1,2024-01-01,2024-01-02,\n,2024-01-01,,\n"
    path = write(tmp_path, text, "ids.csv")
    assert problems(path) == [
        f"{path}:3: column 'ID': ID '1' already on line 2",
        f"{path}:4: column 'ID': the ID is empty",
    ]


def test_posim_flow_csv_work_columns_named_like_stages(tmp_path: Path) -> None:
    text = "ID,Link,Name,Backlog,Ready,Ready (work),Done,Type,Class,Requester\n1,,a,2025-01-06,2025-01-06,2025-01-07,2025-01-08,feature,standard,\n"
    history = read_history(write(tmp_path, text))
    assert history.work_columns == ("Ready (work)",)


# --- working days --------------------------------------------------------------------------


def test_working_days_count_weekdays_and_weekends_move_to_monday() -> None:
    friday, saturday, sunday, monday = D(2024, 3, 8), D(2024, 3, 9), D(2024, 3, 10), D(2024, 3, 11)
    assert to_working_day(saturday) == to_working_day(sunday) == monday
    assert to_working_day(friday) == friday
    assert working_index(monday) - working_index(friday) == 1
    assert working_index(saturday) == working_index(monday)
    assert from_working_index(working_index(monday) + 5) == D(2024, 3, 18)
    assert add_days(friday, 1, True) == monday
    assert add_days(friday, 1, False) == saturday
    assert days_between(friday, D(2024, 3, 15), True) == 5
    assert days_between(friday, D(2024, 3, 15), False) == 7
    for offset in range(-400, 400):
        day = D(2024, 1, 1) + dt.timedelta(days=offset)
        assert from_working_index(working_index(day)) == to_working_day(day)


def test_reading_a_history_loads_no_engine_numpy_or_ui(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, "ID,Done\n1,2024-01-02\n2,2024-01-03\n")
    code = (
        "import sys, posim\n"
        f"posim.read_history({str(path)!r})\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "posim.history" in loaded
    assert not {"posim.engine", "posim.scenario", "numpy", "simpy", "textual", "rich"} & loaded


# --- real exports (found by QA with tracker exports) -----------------------------------------


def test_jira_dates_with_month_names_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Issue key,Summary,Status,Created,Resolved\n"
        'PROJ-1,"Fix, it",Done,02/Jan/24 9:05 AM,06/Jan/24 02:00 PM\n'
        "PROJ-2,Other,Done,03/Feb/24 11:59 PM,\n"
        "PROJ-3,Third,Done,03-Feb-2024,05-Mar-2024\n",
    )
    history = read_history(path)
    assert history.layout == "closed"
    assert [item.done for item in history.items] == [D(2024, 1, 6), None, D(2024, 3, 5)]
    path = write(tmp_path, "Key,Resolved\nA,06/Foo/24\nB,06/Jan/24 13:00 PM\n", "bad.csv")
    found = problems(path)
    assert found[0].startswith(f"{path}:2: column 'Resolved': '06/Foo/24' is not a date")
    assert "--date-format" in found[0]


def test_every_unreadable_cell_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,Done\n1,01/02/24\n2,2024-01-03\n3,01/04/24\n")
    assert [problem.split(":")[1] for problem in problems(path)] == ["2", "4"]


def test_trailing_unnamed_empty_columns_are_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'ID,Name,Done,,\n1,"two\nlines, comma",2024-01-02,,\n2,b,2024-01-04,,\n,,,,\n'
    )
    history = read_history(path)
    assert [item.done for item in history.items] == [D(2024, 1, 2), D(2024, 1, 4)]
    assert history.items[0].name == "two\nlines, comma"
    path = write(tmp_path, "ID,Done,\n1,2024-01-02,x\n2,2024-01-04,\n", "data.csv")
    assert problems(path) == [f"{path}:1: column 3 has no name but holds data"]


def test_repeated_columns_posim_does_not_read_are_numbered(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,Labels,Labels,Done\n1,a,b,2024-01-02\n2,c,d,2024-01-04\n")
    assert len(read_history(path).items) == 2
    path = write(tmp_path, "ID,Done,Done\n1,2024-01-02,\n", "done.csv")
    assert problems(path) == [f"{path}:1: column 'Done' appears twice"]


def test_duplicate_ids_in_closed_dates_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,Done\n1,2024-01-02\n2,2024-01-03\n1,2024-01-04\n")
    assert problems(path) == [f"{path}:4: column 'ID': ID '1' already on line 2"]


def test_rows_longer_than_the_header_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,Name,Done\n1,a,2024-01-02\n2,b, c,2024-01-03\n3,c,2024-01-04,,\n")
    assert problems(path) == [
        f"{path}:3: 4 cells but the header names 3 columns (a separator inside an unquoted cell?)"
    ]


def test_european_excel_export_bom_semicolons_crlf(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_bytes(
        "\ufeffID;Titel;Erledigt;Done\r\n1;a;x;5.3.2024\r\n2;b;y;18.3.2024\r\n".encode()
    )
    history = read_history(path)
    assert [item.done for item in history.items] == [D(2024, 3, 5), D(2024, 3, 18)]
