"""The team: members, their skills, ramp-up, absences, joining and leaving.

:class:`Team` owns the list of members and, of each :class:`MemberState`,
who the member is and whether they are there: ``efficiency`` (skills),
``columns``, ``joined``, ``ramp_days``, ``present`` and ``gone``.  What a
member is doing (``waiting``, ``item``, the ``work_*`` fields) belongs to the
board (:mod:`posim.engine.board`), which the team tells through four hooks
when someone arrives, leaves, goes away or comes back.

A newcomer's speed rises linearly from half to full over the ramp-up
(:meth:`MemberState.rate`, :meth:`MemberState.work_between`,
:meth:`MemberState.days_for`).  Random absences are drawn at the start, one
draw per member per day, from the member's own stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import simpy

from posim.engine.clock import Clock
from posim.engine.distributions import sampler
from posim.engine.randomness import Streams
from posim.engine.records import Recorder
from posim.scenario import Event as ScenarioEvent
from posim.scenario import Member, Scenario


class MemberState:
    """A team member's live state (see the module docstring for who owns which field)."""

    __slots__ = (
        "columns",
        "efficiency",
        "gone",
        "index",
        "item",
        "joined",
        "name",
        "on_done",
        "present",
        "ramp_days",
        "waiting",
        "work",
        "work_amount",
        "work_speed",
        "work_start",
        "work_strikes",
    )

    def __init__(self, index: int, name: str, efficiency: list[float], joined: float, ramp: float):
        self.index = index
        self.name = name
        self.efficiency = efficiency
        self.columns = skilled_columns(efficiency)
        """The columns the member can work in, downstream first (finishing beats starting)."""
        self.joined = joined
        self.ramp_days = ramp
        self.present = True
        self.gone = False
        # The board's fields: what the member is doing.
        self.waiting = False
        self.item: Any = None
        """The :class:`~posim.engine.items.Item` in the member's hands (None: none)."""
        self.work: simpy.Event | None = None
        """The timeout of the work in progress (None: not working)."""
        self.work_start = 0.0
        self.work_amount = 0.0
        self.work_speed = 1.0
        self.work_strikes = False
        self.on_done: Callable[[simpy.Event], None] = lambda event: None

    def rate(self, column: int, now: float) -> float:
        """Work done per day in ``column`` at time ``now`` (ramp-up included)."""
        rate = self.efficiency[column]
        if self.ramp_days > 0:
            ramp = 0.5 + 0.5 * (now - self.joined) / self.ramp_days
            if ramp < 1.0:
                rate *= ramp
        return rate

    def work_between(self, column: int, start: float, end: float) -> float:
        """Work done in ``column`` from ``start`` to ``end`` (the ramp-up rate rises linearly)."""
        full = self.efficiency[column]
        ramp_end = self.joined + self.ramp_days
        mid = min(max(start, ramp_end), end) if self.ramp_days > 0 else start
        ramping = (self.rate(column, start) + self.rate(column, mid)) / 2 * (mid - start)
        return ramping + full * (end - mid)

    def days_for(self, column: int, now: float, work: float) -> float:
        """Days to do ``work`` in ``column`` from ``now`` (inverse of :meth:`work_between`)."""
        full = self.efficiency[column]
        left = self.joined + self.ramp_days - now
        if self.ramp_days <= 0 or left <= 0:
            return work / full
        rate = self.rate(column, now)
        slope = 0.5 * full / self.ramp_days
        in_ramp = rate * left + slope * left * left / 2
        if work >= in_ramp:
            return left + (work - in_ramp) / full
        return 2 * work / (rate + math.sqrt(rate * rate + 2 * slope * work))


def skilled_columns(efficiency: list[float]) -> list[int]:
    """The columns with a skill, downstream first."""
    return [c for c in range(len(efficiency) - 1, -1, -1) if efficiency[c] > 0]


def _ignore(state: MemberState) -> None:
    """A hook nobody set."""


class Team:
    """The members and their comings and goings."""

    def __init__(
        self, scenario: Scenario, clock: Clock, streams: Streams, record: Recorder
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.streams = streams
        self.record = record
        self.activities = scenario.activities
        self.members: list[MemberState] = []
        # What the board does when the team changes (set by the simulation).
        self.on_joined: Callable[[list[MemberState]], None] = lambda states: None
        """Members joined and look for work."""
        self.on_leaving: Callable[[MemberState], None] = _ignore
        """A member left for good (their work, if any, goes back to the queue)."""
        self.on_away: Callable[[MemberState], None] = _ignore
        """A member became absent (their work, if any, goes back to the queue)."""
        self.on_back: Callable[[MemberState], None] = _ignore
        """An absent member came back."""
        for spec in scenario.team:
            self.add(spec, joined=0.0, ramp=0.0)

    def add(self, member: Member, joined: float, ramp: float) -> list[MemberState]:
        """Add the members of ``member`` (``count`` of them, numbered when more than one)."""
        names = (
            [member.name]
            if member.count == 1
            else [f"{member.name} {n}" for n in range(1, member.count + 1)]
        )
        added = []
        for name in names:
            efficiency = [float(member.skills.get(a, 0.0)) for a in self.activities]
            state = MemberState(len(self.members), name, efficiency, joined, ramp)
            self.members.append(state)
            added.append(state)
        return added

    def named(self, name: str) -> list[MemberState]:
        """The present-or-absent members called ``name`` (or numbered ``name n``)."""
        exact = [m for m in self.members if m.name == name and not m.gone]
        if exact:
            return exact
        return [m for m in self.members if m.name.rsplit(" ", 1)[0] == name and not m.gone]

    def on_the_team(self) -> list[MemberState]:
        """Members who have not left."""
        return [m for m in self.members if not m.gone]

    def nominal_capacity(self) -> float:
        """Each present member's best efficiency, summed: effort-days per day."""
        return sum(max(m.efficiency) for m in self.members if m.present and not m.gone)

    def set_skill(self, name: str, column: int, efficiency: float) -> None:
        """An improvement taught ``name`` a skill."""
        for state in self.named(name):
            state.efficiency[column] = efficiency
            state.columns = skilled_columns(state.efficiency)

    def schedule_events(self, events: list[ScenarioEvent]) -> None:
        """Start the scenario's scripted events (joins, departures, absences)."""
        for event in events:
            self.clock.process(self._scripted_event(event))

    def schedule_random_absences(self, horizon: float) -> None:
        """Draw every member's random absences up front (their own stream)."""
        for spec in self.scenario.team:
            if spec.absence_rate <= 0:
                continue
            draw = sampler(spec.absence_days)
            for state in self.named(spec.name):
                rng = self.streams.get("absences", state.name)
                day = 0
                while day < horizon:
                    if rng.random() < spec.absence_rate:
                        days = max(draw(rng), 0.1)
                        self.clock.process(self._absence(state, float(day), days))
                        day += math.ceil(days)
                    day += 1

    def _scripted_event(self, event: ScenarioEvent) -> Generator[simpy.Event, Any, None]:
        clock = self.clock
        if event.day > 0:
            yield clock.timeout(event.day)
        if event.join is not None:
            joined = self.add(event.join, clock.now, event.ramp_up_days)
            for state in joined:
                self.record("joined", member=state.name, value=event.ramp_up_days)
            self.on_joined(joined)
        elif event.leave is not None:
            for state in self.named(event.leave):
                state.gone = True
                state.present = False
                self.record("left", member=state.name)
                self.on_leaving(state)
        elif event.absent is not None:
            for state in self.named(event.absent):
                clock.process(self._absence(state, clock.now, event.days))

    def _absence(
        self, state: MemberState, start: float, days: float
    ) -> Generator[simpy.Event, Any, None]:
        clock = self.clock
        if start > clock.now:
            yield clock.timeout(start - clock.now)
        if state.gone or not state.present:
            return
        self.record("absent", member=state.name, value=days)
        state.present = False
        self.on_away(state)
        yield clock.timeout(days)
        if state.gone:
            return
        state.present = True
        self.record("returned", member=state.name)
        self.on_back(state)
