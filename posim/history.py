"""Reading a team's history: a CSV exported from a tracker (DESIGN section 9).

Two layouts are read:

* **Stage dates** (ActionableAgile, jira-agile-metrics, posim's own
  ``flow.csv``): an ``ID`` column, optional ``Link``/``Name``, two or more
  *stage* columns in workflow order whose cells are the date the item first
  entered that stage (the first stage is arrival, the last is done), then
  optional attribute columns (``Type``, ``Class``, …, kept as text).  The stage
  columns are the longest run of adjacent date columns (the last such run on a
  tie); a column is a date column when most of its filled cells look like
  dates (the others are then reported as bad dates).  A stage named ``Ready``, ``Selected``, ``Committed`` or ``To Do`` is
  the commitment point: it and the stages before it are queues, the stages
  after it up to the last are work columns; without one, every stage between
  the first and the last is a work column.
* **Closed dates**: any other CSV with a column of done dates, found by name
  (:data:`DONE_COLUMN_NAMES`, case-insensitive) or named by ``done_column``.

A file with an ``ID`` column and two or more date columns is read as stage
dates.  Dates are ISO 8601 (``2024-03-05``, ``2024-03-05T14:30:00Z``,
``2024-03-05 14:30``) or slashed/dotted ``M/D/YYYY``, ``D/M/YYYY``,
``D.M.YYYY``, each with an optional time (``9:30``, ``09:30:15``, ``9:30 PM``).
Which of month and day comes first is decided once per column: a first field
above 12 makes it day-first, a second field above 12 month-first; a column
that stays ambiguous, mixes both, or has a cell that does not parse is an
error naming the file, the line and the cell (``date_format``, a
:func:`datetime.datetime.strptime` format, overrides).  Only the date counts:
a time of day is read and dropped, time zones are not converted.

Rows without a done date are work not finished: kept for WIP and ageing, not
counted as throughput.  Problems in the data that posim can read around are
*stated assumptions* (:attr:`History.notes`), never silent guesses:

* a stage date earlier than the date of a stage before it (the item moved
  back, or was edited) is read as that earlier stage's date;
* a stage date after the done date (reopened and closed again) is read as the
  done date.

Every problem is one line, ``file:line: column 'Done': ...``, all of them at
once (:class:`HistoryError`).  This module is headless: no engine, no UI.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DONE_COLUMN_NAMES = (
    "done",
    "done date",
    "closed",
    "closed date",
    "resolved",
    "resolution date",
    "completed",
    "completed date",
)
"""Names of a closed-dates file's done column (case-insensitive)."""

COMMITMENT_NAMES = ("ready", "selected", "committed", "to do")
"""Stage names that mark the commitment point (case-insensitive)."""

MAX_FILE_BYTES = 50_000_000
"""Largest history file read (a hard cap against absurd input)."""

MAX_PROBLEMS = 20
"""Problems listed before the rest are summed up in one line."""

Layout = Literal["stages", "closed"]
"""``stages``: stage dates per item; ``closed``: one done date per item."""


class HistoryError(ValueError):
    """A history file that cannot be read; one line per problem in :attr:`problems`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        """Each problem: ``file:line: column 'X': message``."""
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One row of the history."""

    id: str
    """The item's ID (the line number in a closed-dates file without one)."""
    line: int
    """The line of the file it came from (the header is line 1)."""
    stages: tuple[dt.date | None, ...]
    """Date the item first entered each stage (stage dates), or ``(done,)``
    (closed dates); ``None`` where it never did (after the stated assumptions)."""
    name: str = ""
    """Title, if the file has one."""
    link: str = ""
    """Link, if the file has one."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Other columns (``Type``, ``Class``, …) as text."""

    @property
    def done(self) -> dt.date | None:
        """The done date (the last stage's), or ``None``: not finished."""
        return self.stages[-1]


@dataclass(frozen=True, slots=True)
class History:
    """A team's history, read by :func:`read_history`."""

    source: str
    """The file's name as given."""
    layout: Layout
    """Which layout the file was read as."""
    stages: tuple[str, ...]
    """Stage names in workflow order (``("Done",)``-like single column for closed dates)."""
    commitment: int | None
    """Index of the commitment stage (``Ready``…), or ``None``."""
    items: tuple[HistoryItem, ...]
    """Every row, in file order."""
    notes: tuple[str, ...] = ()
    """Stated assumptions made while reading (see the module docstring)."""

    @property
    def work_columns(self) -> tuple[str, ...]:
        """The stages worked in: after the commitment point (or the first stage), before done."""
        if self.layout == "closed":
            return ()
        first = 1 if self.commitment is None else self.commitment + 1
        return self.stages[first:-1]

    @property
    def first_work_stage(self) -> int | None:
        """Index of the first work column's stage (``None`` without one)."""
        if not self.work_columns:
            return None
        return 1 if self.commitment is None else self.commitment + 1

    def done_dates(self) -> list[dt.date]:
        """Done dates of finished items, sorted."""
        return sorted(item.done for item in self.items if item.done is not None)

    def started(self, item: HistoryItem) -> dt.date | None:
        """The date work started: the first work column entered (stage dates only)."""
        first = self.first_work_stage
        if first is None:
            return None
        for date in item.stages[first:-1]:
            if date is not None:
                return date
        return None


# --- dates ----------------------------------------------------------------------------------

_TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?)?"
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_SLASHED = re.compile(r"^(\d{1,2})([/.])(\d{1,2})\2(\d{4})" + _TIME + r"$")
# Jira's export: ``02/Dec/25 9:30 AM`` (also ``02-Dec-2025``, ``2 Dec 2025``): the month
# by its English abbreviation, so never ambiguous; a two-digit year is 20YY.
_NAMED = re.compile(r"^(\d{1,2})([/ -])([A-Za-z]{3})\2(\d{2}|\d{4})" + _TIME + r"$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}

DateOrder = Literal["iso", "mdy", "dmy", "dot", "named"]


@dataclass(frozen=True, slots=True)
class _Cell:
    """A non-empty cell of a date column: where it is and what it says."""

    line: int
    text: str


def _looks_like_date(text: str) -> bool:
    """Whether a cell has the shape of an accepted date (its values not checked)."""
    return bool(_ISO.match(text) or _SLASHED.match(text) or _named(text))


def _named(text: str) -> re.Match[str] | None:
    """A ``D/Mon/YY`` cell (Jira) whose month abbreviation is a month."""
    match = _NAMED.match(text)
    return match if match and match.group(3).lower() in _MONTHS else None


def _column_order(
    source: str, column: str, cells: Sequence[_Cell], problems: list[str]
) -> DateOrder | None:
    """Decide one column's date format from all its cells (``None`` after a problem)."""
    kinds = set()
    first_big: _Cell | None = None
    second_big: _Cell | None = None
    unreadable = False
    for cell in cells:
        if _ISO.match(cell.text):
            kinds.add("iso")
            continue
        if _named(cell.text):
            kinds.add("named")
            continue
        match = _SLASHED.match(cell.text)
        if match is None:
            problems.append(
                f"{source}:{cell.line}: column {column!r}: {cell.text!r} is not a date "
                "(expected YYYY-MM-DD, M/D/YYYY, D/M/YYYY, D.M.YYYY or D/Mon/YY; "
                "for another format pass --date-format)"
            )
            unreadable = True
            continue
        if match.group(2) == ".":
            kinds.add("dot")
            continue
        kinds.add("slash")
        if int(match.group(1)) > 12 and first_big is None:
            first_big = cell
        if int(match.group(3)) > 12 and second_big is None:
            second_big = cell
    if unreadable:
        return None
    if len(kinds) > 1:
        problems.append(
            f"{source}:{cells[0].line}: column {column!r}: mixes date formats "
            f"({', '.join(sorted(kinds))}); pass --date-format"
        )
        return None
    kind = next(iter(kinds))
    if kind in ("iso", "dot", "named"):
        return kind  # type: ignore[return-value]
    if first_big is not None and second_big is not None:
        problems.append(
            f"{source}:{second_big.line}: column {column!r}: {second_big.text!r} is month/day "
            f"but {first_big.text!r} (line {first_big.line}) is day/month; pass --date-format"
        )
        return None
    if first_big is not None:
        return "dmy"
    if second_big is not None:
        return "mdy"
    problems.append(
        f"{source}:{cells[0].line}: column {column!r}: {cells[0].text!r} could be month/day "
        "or day/month, and no date in the column settles it; pass --date-format "
        "'%m/%d/%Y' or '%d/%m/%Y'"
    )
    return None


def _parse(text: str, order: DateOrder) -> dt.date:
    """A cell in a column of known order (ValueError when the date does not exist)."""
    if order == "iso":
        match = _ISO.match(text)
        assert match is not None
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if order == "named":
        named = _named(text)
        assert named is not None
        if named.group(5) is not None and int(named.group(5)) > (12 if named.group(8) else 23):
            raise ValueError("hour out of range")
        year = int(named.group(4))
        year = 2000 + year if year < 100 else year
        return dt.date(year, _MONTHS[named.group(3).lower()], int(named.group(1)))
    match = _SLASHED.match(text)
    assert match is not None
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if match.group(5) is not None and int(match.group(5)) > (12 if match.group(8) else 23):
        raise ValueError("hour out of range")
    if order == "mdy":
        return dt.date(year, first, second)
    return dt.date(year, second, first)


def _parse_with_format(text: str, date_format: str) -> dt.date:
    """A cell by an explicit strptime format (the whole cell, or its first word)."""
    try:
        return dt.datetime.strptime(text, date_format).date()
    except ValueError:
        head = text.split()[0] if text.split() else text
        return dt.datetime.strptime(head, date_format).date()


def _dates(
    source: str,
    column: str,
    cells: Sequence[_Cell],
    date_format: str | None,
    problems: list[str],
) -> dict[int, dt.date]:
    """Parse a column's non-empty cells; line -> date (problems appended)."""
    out: dict[int, dt.date] = {}
    if not cells:
        return out
    order = None if date_format else _column_order(source, column, cells, problems)
    if order is None and not date_format:
        return out
    for cell in cells:
        try:
            if date_format:
                out[cell.line] = _parse_with_format(cell.text, date_format)
            else:
                assert order is not None
                out[cell.line] = _parse(cell.text, order)
        except ValueError:
            hint = f"format {date_format!r}" if date_format else "a valid date"
            problems.append(f"{source}:{cell.line}: column {column!r}: {cell.text!r} is not {hint}")
    return out


# --- the file -------------------------------------------------------------------------------


def _read_rows(path: Path, source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(line, cells)`` rows; delimiter sniffed among , ; and tab."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise HistoryError([f"{source}: {error.strerror or error}"]) from None
    if size > MAX_FILE_BYTES:
        raise HistoryError([f"{source}: file is {size:,} bytes, more than {MAX_FILE_BYTES:,}"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise HistoryError([f"{source}: not UTF-8 text ({error.reason})"]) from None
    except OSError as error:
        raise HistoryError([f"{source}: {error.strerror or error}"]) from None
    if not text.strip():
        raise HistoryError([f"{source}: the file is empty (expected a header line and rows)"])
    first_line = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            line = reader.line_num
            if header is None:
                header = [cell.strip() for cell in cells]
                continue
            if not any(cell.strip() for cell in cells):
                continue
            rows.append((line, [cell.strip() for cell in cells]))
    except csv.Error as error:
        raise HistoryError([f"{source}:{reader.line_num}: {error}"]) from None
    assert header is not None
    long_rows = [
        f"{source}:{line}: {len(cells)} cells but the header names {len(header)} columns "
        "(a separator inside an unquoted cell?)"
        for line, cells in rows
        if any(cells[len(header) :])
    ]
    _raise(long_rows)
    # Spreadsheets leave empty columns without a name (``ID,Done,,``): dropped.  An unnamed
    # column with data is an error; so is a repeated name posim reads (ID, Name, a done
    # column), while other repeats (Jira repeats Labels, Sprint, Watchers) are numbered.
    keep = [
        index
        for index, name in enumerate(header)
        if name or any(index < len(cells) and cells[index] for _, cells in rows)
    ]
    if len(keep) < len(header):
        header = [header[index] for index in keep]
        rows = [(line, [cells[i] for i in keep if i < len(cells)]) for line, cells in rows]
    problems = []
    read_names = {"id", "link", "name", "title", "summary", *DONE_COLUMN_NAMES}
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            problems.append(f"{source}:1: column {keep[index] + 1} has no name but holds data")
            continue
        lowered = name.lower()
        if lowered in seen:
            if lowered in read_names:
                problems.append(f"{source}:1: column {name!r} appears twice")
                continue
            copy = 2
            while f"{lowered} ({copy})" in seen:
                copy += 1
            header[index] = name = f"{name} ({copy})"
        seen[name.lower()] = index
    if problems:
        raise HistoryError(problems)
    return header, rows


def _find(header: Sequence[str], *names: str) -> int | None:
    """Index of the first column whose name is one of ``names`` (case-insensitive)."""
    lowered = [name.lower() for name in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _column_cells(rows: Iterable[tuple[int, list[str]]], index: int) -> list[_Cell]:
    """The non-empty cells of one column."""
    return [
        _Cell(line, cells[index]) for line, cells in rows if index < len(cells) and cells[index]
    ]


def _stage_block(header: Sequence[str], rows: Sequence[tuple[int, list[str]]]) -> list[int]:
    """Indices of the stage columns: the longest run of adjacent date columns."""
    skip = {"id", "link", "name", "title", "key", "summary"}
    datelike = []
    for index, name in enumerate(header):
        cells = _column_cells(rows, index)
        dates = sum(1 for cell in cells if _looks_like_date(cell.text))
        # Mostly dates: a date column, whose other cells are then reported as bad dates.
        datelike.append(name.lower() not in skip and bool(cells) and dates * 2 > len(cells))
    best: list[int] = []
    run: list[int] = []
    for index, is_date in enumerate([*datelike, False]):
        if is_date:
            run.append(index)
            continue
        if len(run) >= len(best) and len(run) >= 2:
            best = run
        run = []
    return best


def read_history(
    path: str | Path,
    *,
    done_column: str | None = None,
    date_format: str | None = None,
) -> History:
    """Read a tracker export (either layout of DESIGN section 9).

    Args:
        path: the CSV file.
        done_column: the done-date column of a closed-dates file (overrides
            detection by name; forces the closed-dates layout).
        date_format: a :func:`datetime.datetime.strptime` format for every
            date cell, instead of deciding it per column.

    Raises:
        HistoryError: one line per problem, naming file, line and cell.
    """
    path = Path(path)
    source = str(path)
    header, rows = _read_rows(path, source)
    if not rows:
        raise HistoryError([f"{source}: no rows after the header line"])
    id_index = _find(header, "id")
    stage_indices = [] if done_column else _stage_block(header, rows)
    if id_index is not None and len(stage_indices) >= 2:
        return _read_stages(source, header, rows, id_index, stage_indices, date_format)
    return _read_closed(source, header, rows, id_index, done_column, date_format)


def _read_closed(
    source: str,
    header: Sequence[str],
    rows: Sequence[tuple[int, list[str]]],
    id_index: int | None,
    done_column: str | None,
    date_format: str | None,
) -> History:
    """A closed-dates file: one column of done dates."""
    if done_column is not None:
        done_index = _find(header, done_column.lower())
        if done_index is None:
            raise HistoryError(
                [f"{source}:1: no column named {done_column!r} (columns: {', '.join(header)})"]
            )
    else:
        done_index = _find(header, *DONE_COLUMN_NAMES)
        if done_index is None:
            raise HistoryError(
                [
                    f"{source}:1: no column of done dates: expected an ID column and two or more "
                    "stage-date columns, or a column named Done, Closed, Resolved or Completed "
                    "(with or without 'date'); name it with --done-column"
                ]
            )
    problems: list[str] = []
    column = header[done_index]
    dates = _dates(source, column, _column_cells(rows, done_index), date_format, problems)
    _raise(problems)
    name_index = _find(header, "name", "title", "summary")
    link_index = _find(header, "link")
    items = []
    ids: dict[str, int] = {}
    for line, cells in rows:
        identifier = _cell(cells, id_index)
        if identifier and identifier in ids:
            # Counted twice, it would be throughput that never happened.
            assert id_index is not None
            problems.append(
                f"{source}:{line}: column {header[id_index]!r}: ID {identifier!r} "
                f"already on line {ids[identifier]}"
            )
        ids.setdefault(identifier, line)
        items.append(
            HistoryItem(
                id=_cell(cells, id_index) or str(line),
                line=line,
                stages=(dates.get(line),),
                name=_cell(cells, name_index),
                link=_cell(cells, link_index),
            )
        )
    _raise(problems)
    return History(source, "closed", (column,), None, tuple(items))


def _cell(cells: Sequence[str], index: int | None) -> str:
    """A row's cell, ``""`` when the column is missing or the row is short."""
    if index is None or index >= len(cells):
        return ""
    return cells[index]


def _read_stages(
    source: str,
    header: Sequence[str],
    rows: Sequence[tuple[int, list[str]]],
    id_index: int,
    stage_indices: Sequence[int],
    date_format: str | None,
) -> History:
    """A stage-dates file: one date column per stage."""
    problems: list[str] = []
    columns = [
        _dates(source, header[i], _column_cells(rows, i), date_format, problems)
        for i in stage_indices
    ]
    _raise(problems)
    names = tuple(header[i] for i in stage_indices)
    commitment = next(
        (k for k, name in enumerate(names[:-1]) if name.lower() in COMMITMENT_NAMES and k > 0),
        None,
    )
    if commitment is None and names[0].lower() in COMMITMENT_NAMES:
        commitment = 0
    name_index = _find(header, "name", "title", "summary")
    link_index = _find(header, "link")
    known = {id_index, name_index, link_index, *stage_indices}
    moved_back: list[int] = []
    after_done: list[int] = []
    items = []
    ids: dict[str, int] = {}
    for line, cells in rows:
        identifier = _cell(cells, id_index)
        if not identifier:
            problems.append(f"{source}:{line}: column {header[id_index]!r}: the ID is empty")
            continue
        if identifier in ids:
            problems.append(
                f"{source}:{line}: column {header[id_index]!r}: ID {identifier!r} "
                f"already on line {ids[identifier]}"
            )
            continue
        ids[identifier] = line
        stages: list[dt.date | None] = [column.get(line) for column in columns]
        done = stages[-1]
        latest: dt.date | None = None
        for k, date in enumerate(stages[:-1]):
            if date is None:
                continue
            if latest is not None and date < latest:
                stages[k] = date = latest
                if not moved_back or moved_back[-1] != line:
                    moved_back.append(line)
            if done is not None and date > done:
                stages[k] = date = done
                after_done.append(line)
            latest = date
        if done is not None and latest is not None and done < latest:
            stages[-1] = latest  # unreachable after clamping; kept for safety
        attributes = {
            header[i]: cells[i] for i in range(len(header)) if i not in known and i < len(cells)
        }
        items.append(
            HistoryItem(
                id=identifier,
                line=line,
                stages=tuple(stages),
                name=_cell(cells, name_index),
                link=_cell(cells, link_index),
                attributes=attributes,
            )
        )
    _raise(problems)
    notes = []
    if moved_back:
        notes.append(
            f"{_count(len(moved_back), 'item has', 'items have')} a stage date earlier than a "
            "stage before it "
            f"(lines {_lines(moved_back)}): read as entering both on the earlier stage's date."
        )
    if after_done:
        notes.append(
            f"{_count(len(set(after_done)), 'item', 'items')} entered a stage after "
            f"{'its' if len(set(after_done)) == 1 else 'their'} done date "
            f"(lines {_lines(sorted(set(after_done)))}): read as entering it on the done date."
        )
    return History(source, "stages", names, commitment, tuple(items), tuple(notes))


def _count(count: int, one: str, many: str) -> str:
    """``"1 item has"`` / ``"3 items have"``."""
    return f"{count} {one if count == 1 else many}"


def _lines(lines: Sequence[int], shown: int = 5) -> str:
    """``"4, 9, 12 and 3 more"``."""
    head = ", ".join(str(line) for line in lines[:shown])
    return head if len(lines) <= shown else f"{head} and {len(lines) - shown} more"


def _raise(problems: list[str]) -> None:
    """Raise :class:`HistoryError` when there are problems (at most :data:`MAX_PROBLEMS` lines)."""
    if not problems:
        return
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], f"... and {extra} more problems"]
    raise HistoryError(problems)


# --- working days ---------------------------------------------------------------------------


def to_working_day(date: dt.date) -> dt.date:
    """The date itself on a weekday; the following Monday on a Saturday or Sunday."""
    weekday = date.weekday()
    return date + dt.timedelta(days=7 - weekday) if weekday >= 5 else date


def working_index(date: dt.date) -> int:
    """A count of weekdays: consecutive weekdays differ by 1 (weekends map to Monday)."""
    monday = to_working_day(date)
    ordinal = monday.toordinal()  # 0001-01-01 is a Monday (ordinal 1)
    weeks, day = divmod(ordinal - 1, 7)
    return weeks * 5 + day


def from_working_index(index: int) -> dt.date:
    """The weekday with :func:`working_index` ``index``."""
    weeks, day = divmod(index, 5)
    return dt.date.fromordinal(weeks * 7 + day + 1)


def add_days(date: dt.date, days: int, working_days: bool) -> dt.date:
    """``days`` days after ``date`` (weekdays only with ``working_days``)."""
    if not working_days:
        return date + dt.timedelta(days=days)
    return from_working_index(working_index(date) + days) if days else date


def days_between(start: dt.date, end: dt.date, working_days: bool) -> int:
    """Days (or weekdays) after ``start`` up to and including ``end``."""
    if not working_days:
        return (end - start).days
    return working_index(end) - working_index(start)


def parse_date(text: str) -> dt.date:
    """A command-line date: ISO ``YYYY-MM-DD`` (ValueError otherwise)."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None
