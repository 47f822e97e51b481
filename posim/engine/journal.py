"""What a person playing the PO reads about the game as it happens.

Plain functions that read a live :class:`~posim.engine.simulation.Simulation`
(its records, the books' promises and trust log, the board, the team and the
PO's time) and never change it:

* :func:`entries` — the game's log in sentences: arrivals, accepts and
  declines, items done on time or late against the promise, blockers,
  questions raised and answered, defects, absences, reviews, reports and
  every trust change with its cause.
* :func:`team` — each member's skills, what they work on, and when idle, why.
* :func:`sprint` — in Scrum scenarios the sprint number, its goal and its end.
* :func:`po_time` — the PO's daily budget: hours left today and what waits.
* :func:`last_trust_changes` — each stakeholder's last trust change and why.

The game (``posim.tui``) shows these; the rules stay here and in the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from posim.engine import commands as cmd

if TYPE_CHECKING:
    from posim.engine.records import Record
    from posim.engine.simulation import Simulation


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the game's log."""

    day: float
    """The simulated day it happened."""
    kind: str
    """The record kind it comes from (``trust``, ``done``, ``blocked``, ...)."""
    text: str
    """The sentence the player reads."""
    stakeholder: str | None = None
    """The stakeholder concerned, if any."""
    delta: float | None = None
    """For ``trust``: the change of trust (positive raises it)."""
    item: int | None = None
    """The item concerned, if any."""


plain = cmd.plain
"""A command as a player says it (:func:`posim.engine.commands.plain`)."""


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


def _promise_words(sim: Simulation, item_id: int, done: float) -> str:
    """``, on time for Sales (promised day 20)`` or ``, 3.2 days late ...``; '' if no promise."""
    for promise in reversed(sim.books.promises):
        if item_id in promise.item_ids and promise.made_on <= done:
            late = done - promise.forecast_day
            if late > 0:
                return (
                    f", {late:.1f} days late for {promise.stakeholder}"
                    f" (promised day {promise.forecast_day:g})"
                )
            return f", on time for {promise.stakeholder} (promised day {promise.forecast_day:g})"
    return ""


def _entry(sim: Simulation, record: Record) -> Entry | None:
    """The log line of one record (None: not worth a line)."""
    kind = record.kind
    day = record.time
    item = sim.items[record.item - 1] if record.item is not None else None
    ref = f"#{item.id} {item.title}" if item is not None else ""
    who = record.stakeholder
    text: str | None = None
    if kind == "arrived" and item is not None and record.detail != "backlog":
        text = f"Request {ref} from {item.requester}"
    elif kind == "accepted":
        where = "the bottom" if record.value is None else f"rank {int(record.value) + 1}"
        text = f"You accepted {ref} (backlog, {where})"
    elif kind == "declined":
        text = f"You declined {ref}" + (f" from {who}" if who else "")
    elif kind == "done" and item is not None:
        due = ""
        if item.due is not None:
            late = day - item.due
            due = f", {late:.1f} days after its due day" if late > 0 else ", before its due day"
        text = f"Done: {ref}{due}{_promise_words(sim, item.id, day)}"
    elif kind == "blocked":
        if record.detail == "question":
            text = f"The team asks about {ref}: it waits for your answer"
        else:
            text = f"{ref} blocked by an outside dependency"
    elif kind == "unblocked":
        if record.detail == "question":
            text = f"Question on {ref} answered: work goes on"
        else:
            text = f"{ref} unblocked"
    elif kind == "defect":
        text = f"Test found a defect in {ref}: back for rework"
    elif kind == "scope":
        text = f"New scope found in {ref} (+{record.value or 0:.1f} days)"
    elif kind == "absent":
        text = f"{record.member} is absent for {record.value or 0:.1f} days"
    elif kind == "returned":
        text = f"{record.member} is back"
    elif kind == "left":
        text = f"{record.member} left the team"
    elif kind == "joined":
        ramp = record.value or 0
        text = f"{record.member} joined the team" + (
            f" (ramping up over {ramp:g} days)" if ramp else ""
        )
    elif kind == "review":
        text = f"Review due: report status to {who}"
    elif kind == "report":
        status = record.detail.replace("_", " ")
        text = f"Reported to {who}: {status}, day {record.value or 0:g}"
    elif kind == "trust" and who is not None:
        delta = record.value or 0.0
        _, _, why = record.detail.partition(": ")
        return Entry(
            day,
            kind,
            f"{who} trust {_signed(delta)}: {why or record.detail}",
            who,
            delta,
            record.item,
        )
    elif kind == "escalation":
        text = f"{who} escalates: {record.detail}"
    elif kind == "expired":
        text = f"{ref} from {who} waited {record.value or 0:.1f} days, past their patience"
    elif kind == "sprint":
        text = f"Sprint {int(record.value or 0)} starts: planning"
    elif kind == "effect":
        text = f"{ref} done: {record.detail}"
    elif kind == "waiting":
        text = f"Waits for your time until day {record.value or 0:.2f}: {record.detail}"
    elif kind == "dropped":
        text = f"Dropped: {record.detail}"
    elif kind == "wip":
        limit = "none" if record.value is None else f"{record.value:g}"
        text = f"WIP limit of {record.column}: {limit}"
    if text is None:
        return None
    return Entry(day, kind, text, who, None, record.item)


def entries(sim: Simulation, start: int = 0) -> tuple[list[Entry], int]:
    """The log lines of the records from index ``start``; and the index to go on from."""
    records = sim.records
    lines = []
    for record in records[start:]:
        entry = _entry(sim, record)
        if entry is not None:
            lines.append(entry)
    return lines, len(records)


def last_trust_changes(sim: Simulation) -> dict[str, tuple[float, float, str]]:
    """Stakeholder -> (day, change, explanation) of their last trust change."""
    last: dict[str, tuple[float, float, str]] = {}
    for day, change in sim.books.trust_changes:
        last[change.stakeholder] = (day, change.delta, change.explanation)
    return last


@dataclass(frozen=True, slots=True)
class MemberStatus:
    """What one team member is doing, or why not."""

    name: str
    skills: dict[str, float]
    """Activity -> efficiency (1.0 = full speed)."""
    working_on: int | None
    """The item being worked on (None: idle or away)."""
    activity: str | None
    """The column of that work."""
    state: str
    """``working``, ``idle``, ``absent`` or ``ramping``."""
    why: str
    """What the member does or, when idle, why."""


def team(sim: Simulation) -> list[MemberStatus]:
    """Every member on the team: skills, work, and when idle, why."""
    now = sim.now
    activities = sim.activities
    rows = []
    for member in sim.members:
        if member.gone:
            continue
        skills = {
            activities[c]: member.efficiency[c]
            for c in range(len(activities))
            if member.efficiency[c] > 0
        }
        ramping = member.ramp_days > 0 and now < member.joined + member.ramp_days
        item = member.item
        if not member.present:
            rows.append(MemberStatus(member.name, skills, None, None, "absent", "absent"))
            continue
        if item is not None:
            column = activities[item.column]
            why = f"{column} on #{item.id}"
            state = "working"
            if ramping:
                speed = member.rate(item.column, now) / member.efficiency[item.column]
                why += f", ramping up ({speed:.0%} speed)"
                state = "ramping"
            rows.append(MemberStatus(member.name, skills, item.id, column, state, why))
            continue
        rows.append(
            MemberStatus(member.name, skills, None, None, "idle", _idle_reason(sim, member))
        )
    return rows


def _idle_reason(sim: Simulation, member: Any) -> str:
    """Why a present member without work is idle."""
    activities = sim.activities
    columns: list[int] = member.columns
    full: list[str] = []
    questions: list[int] = []
    blocked: list[int] = []
    for column in columns:
        if sim.pull[column] and not sim.board.has_room(column, sim.pull[column][0][2]):
            full.append(activities[column])
        for item in sim.items:
            if item.state == "column" and item.column == column and item.active_block:
                (questions if item.active_block == "question" else blocked).append(item.id)
    if full and questions:
        ids = ", ".join(f"#{i}" for i in sorted(questions))
        return f"idle: {', '.join(full)} full (WIP limit); {ids} wait for your answer"
    if full:
        return f"idle: {', '.join(full)} full (WIP limit)"
    if questions:
        ids = ", ".join(f"#{i}" for i in sorted(questions))
        return f"idle: waits for your answer on {ids}"
    if blocked:
        ids = ", ".join(f"#{i}" for i in sorted(blocked))
        return f"idle: {ids} blocked"
    names = "/".join(activities[c] for c in reversed(columns)) or "anything"
    return f"idle: nothing to work on in {names}"


@dataclass(frozen=True, slots=True)
class SprintStatus:
    """The current sprint of a Scrum scenario."""

    number: int
    start: float
    end: float
    goal: tuple[int, ...]
    """The items committed at the sprint's planning."""
    done: tuple[int, ...]
    """The goal's items done so far."""


def sprint(sim: Simulation) -> SprintStatus | None:
    """The sprint under way (None: not a Scrum scenario, or before the first planning)."""
    cadence = sim.scenario.cadence
    if cadence.mode != "scrum" or sim.sprint < 1:
        return None
    length = float(cadence.sprint_days)
    start = (sim.sprint - 1) * length
    goal = tuple(
        item.id
        for item in sim.items
        if item.committed is not None and math.isclose(item.committed, start, abs_tol=1e-9)
    )
    done = tuple(i for i in goal if sim.items[i - 1].done is not None)
    return SprintStatus(sim.sprint, start, min(start + length, sim.horizon), goal, done)


@dataclass(frozen=True, slots=True)
class PoTime:
    """The PO's time today, where the scenario gives the PO a daily budget."""

    budget: float
    """Hours of attention per day."""
    left_today: float
    """Hours not yet booked before the end of today."""
    busy_until: float
    """The day the PO's booked work ends (now or earlier: free)."""
    waiting: tuple[tuple[float, str], ...]
    """Decisions given but waiting for the PO's time: (day they take effect, what)."""


def po_time(sim: Simulation) -> PoTime | None:
    """The PO's budget today (None: the scenario sets no daily budget)."""
    books = sim.books
    budget = books.budget
    if not budget:
        return None
    now = sim.now
    end_of_day = math.floor(now + 1e-9) + 1
    left = max(0.0, end_of_day - max(now, books.po_free_at)) * budget
    waiting = tuple((day, plain(command)) for day, command in books.waiting)
    return PoTime(budget, left, books.po_free_at, waiting)
