"""The game's log and its team: what happened and who does what.

* :class:`LogPanel` — the "Today" tab: every log line of the game, newest
  last, grouped by day, trust changes coloured by sign.
* :class:`TeamPanel` — the "Team" tab: each member's skills, what they work
  on and, when idle, why; the sprint (Scrum) and the PO's time (a daily budget).
* :class:`TeamStrip` — one line on the board: who is idle and why.

They render what the board gives them (attributes down); the sentences come
from :mod:`posim.engine.journal`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import RichLog, Static

from posim.engine.journal import Entry, MemberStatus, PoTime, SprintStatus
from posim.tui.game import day_label
from posim.tui.widgets.cards import day_text

KIND_STYLES = {
    "done": "green",
    "blocked": "bold red",
    "defect": "red",
    "review": "bold yellow",
    "report": "cyan",
    "expired": "red",
    "escalation": "bold red",
    "absent": "yellow",
    "left": "yellow",
    "waiting": "yellow",
    "arrived": "bold",
}
"""Log line kind -> style (trust changes: green up, red down)."""


def entry_text(entry: Entry) -> Text:
    """One log line: `` d12.3  Sales trust −4.0: ...`` (days right-aligned)."""
    text = Text()
    text.append(f"d{entry.day:.1f}".rjust(6) + "  ", style="dim")
    if entry.kind == "trust":
        style = "bold green" if (entry.delta or 0) > 0 else "bold red"
    else:
        style = KIND_STYLES.get(entry.kind, "")
    text.append(entry.text, style=style)
    return text


class LogPanel(RichLog):
    """Every line of the game's log, newest last, with a header for each new day."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, auto_scroll=True)
        self._day: int | None = None
        self.lines_shown = 0
        """How many log lines have been written (the board appends only the new ones)."""

    def add(self, entries: Sequence[Entry]) -> None:
        """Append log lines, with a day header when the day changes."""
        for entry in entries:
            whole = math.floor(entry.day + 1e-9)
            if whole != self._day:
                self._day = whole
                self.write(Text(f"── {day_label(entry.day)} (day {whole}) ──", style="bold cyan"))
            self.write(entry_text(entry))
            self.lines_shown += 1


def skills_text(skills: dict[str, float]) -> str:
    """``analysis, development ½``: full-speed skills bare, others with their efficiency."""
    return ", ".join(name if eff >= 1 else f"{name} {eff:.1g}" for name, eff in skills.items())


class TeamPanel(Static, can_focus=True):
    """The team, the sprint and the PO's time (focusable, so the board's keys work on its tab)."""

    def show(
        self,
        members: Sequence[MemberStatus],
        sprint: SprintStatus | None,
        po_time: PoTime | None,
        now: float,
    ) -> None:
        """Render the team table, then the sprint and the PO's time if any."""
        text = Text()
        if sprint is not None:
            goal = ", ".join(f"#{i}" for i in sprint.goal) or "nothing committed"
            text.append(
                f"Sprint {sprint.number}: days {day_text(sprint.start)}–{day_text(sprint.end)} "
                f"(ends in {max(0.0, sprint.end - now):.1f} days)\n",
                style="bold",
            )
            text.append(f"Goal: {goal} · {len(sprint.done)}/{len(sprint.goal)} done\n\n")
        if po_time is not None:
            text.append(
                f"Your time: {po_time.budget:g} h a day · {po_time.left_today:.1f} h left today",
                style="bold",
            )
            if po_time.busy_until > now:
                text.append(f" · busy until day {po_time.busy_until:.2f}")
            text.append("\n")
            for day, what in po_time.waiting:
                text.append(f"  ⧗ {what}: takes effect on day {day:.2f}\n", style="yellow")
            if not po_time.waiting:
                text.append("  nothing waits for your time\n", style="dim")
            text.append("\n")
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
        table.add_column("member", style="bold", no_wrap=True)
        table.add_column("skills", no_wrap=True)
        table.add_column("doing", ratio=1)
        for member in members:
            style = {"idle": "yellow", "absent": "red", "ramping": "cyan"}.get(member.state, "")
            table.add_row(member.name, skills_text(member.skills), Text(member.why, style=style))
        self.update(Text.assemble(text) if not members else _stack(text, table))


def _stack(text: Text, table: Table) -> Table:
    """The header text above the table, as one renderable."""
    outer = Table.grid(expand=True)
    outer.add_column()
    if text.plain:
        outer.add_row(text)
    outer.add_row(table)
    return outer


class TeamStrip(Static):
    """One line on the board: how many work, and who is idle or away and why."""

    def show(self, members: Sequence[MemberStatus]) -> None:
        """Render the line."""
        working = sum(1 for m in members if m.working_on is not None)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Team: {working}/{len(members)} working", style="bold")
        for member in members:
            if member.working_on is None:
                style = "red" if member.state == "absent" else "yellow"
                text.append(f" · {member.name} {member.why}", style=style)
        self.update(text)
