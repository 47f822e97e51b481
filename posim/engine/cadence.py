"""The cadence: replenishment, sprints and review days.

:class:`Cadence` owns the routine's clockwork and its own counters: the
sprint number, the estimates finished (yesterday's weather for sprint
planning), the capacity planned in the current sprint, the day of the next
review, and whether Ready is refilled continuously (kanban without
meetings) or at meetings.

Replenishment commits from the top of the backlog while Ready has room (and,
at sprint planning, while the sprint's forecast capacity lasts), through the
board's one commit rule (each recorded as a command).  When reviews fall due the
``review`` hook is called (the books take note, the product owner reports).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from posim.engine import commands as cmd
from posim.engine.board import Board
from posim.engine.clock import Clock
from posim.engine.items import Item
from posim.engine.records import Recorder
from posim.engine.team import Team
from posim.scenario import Scenario


class Cadence:
    """Sprints or kanban meetings, and the review calendar."""

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock,
        record: Recorder,
        board: Board,
        team: Team,
        *,
        auto_commit: bool,
        horizon: float,
    ) -> None:
        self.clock = clock
        self.record = record
        self.board = board
        self.team = team
        self.horizon = horizon
        self.auto_commit = auto_commit
        """Whether the routine commits from the backlog (a strategy; a person who asked)."""
        cadence = self.cadence = scenario.cadence
        default_review = cadence.sprint_days if cadence.mode == "scrum" else cadence.review_every
        self.review_intervals: dict[str, float] = {
            s.name: s.report_every or default_review
            for s in scenario.stakeholders
            if (s.report_every or default_review) > 0
        }
        """Stakeholder -> days between their status reviews (scrum: each sprint's end)."""
        self.continuous = auto_commit and cadence.mode == "kanban" and cadence.replenish_every == 0
        """Whether Ready is refilled the moment it has room (kanban without meetings)."""
        self.sprints = cadence.mode == "scrum"
        """Whether the team works in sprints (their planning reads :meth:`item_done`'s log)."""
        self.sprint = 0
        self.next_review: float | None = None
        """The next day any stakeholder's review falls due (None: no reviews)."""
        self._completed_estimate: list[tuple[float, float]] = []
        self._planned_capacity = 0.0
        self._replenishing = False
        self._replenish_again = False
        self.review: Callable[[str], None] = lambda name: None
        """What happens when a review falls due (set by the simulation)."""

    def start(self) -> None:
        """Schedule the routine: replenishment, sprints and reviews."""
        cadence = self.cadence
        if cadence.mode == "scrum":
            self.every(0.0, cadence.sprint_days, self._sprint_planning)
        elif cadence.replenish_every > 0:
            self.every(0.0, cadence.replenish_every, self._replenish_meeting)
        for name, interval in self.review_intervals.items():
            self.every(interval, interval, partial(self._review, name))
        self._set_next_review()
        if self.continuous:
            self.replenish()

    def every(self, start: float, interval: float, action: Callable[[], None]) -> None:
        """Call ``action`` at ``start`` and every ``interval`` days until the horizon.

        A chain of timeouts with callbacks, not a SimPy process (a generator
        resume and a process event less per tick), started on an urgent event
        at the current day, where a process would start: the events come in the
        same order as a process's ``while day < horizon: yield timeout; action()``.
        """
        clock = self.clock
        horizon = self.horizon
        next_day = start

        def tick(fired: bool) -> None:
            nonlocal next_day
            day = next_day
            if fired:  # the timeout for ``day`` fired
                action()
                day += interval
            while day < horizon:
                if day > clock.now:
                    next_day = day
                    clock.call(day - clock.now, lambda _event: tick(True))
                    return
                action()
                day += interval

        clock.first(lambda _event: tick(False))

    def _review(self, name: str) -> None:
        self.review(name)

    def reviewed(self) -> None:
        """A review fell due: move the calendar on."""
        self._set_next_review()

    def _set_next_review(self) -> None:
        now = self.clock.now
        self.next_review = min(
            [(math.floor(now / i + 1e-9) + 1) * i for i in self.review_intervals.values()],
            default=None,
        )

    def item_done(self, item: Item) -> None:
        """An item reached Done: it counts for the next sprint's forecast (sprints only)."""
        self._completed_estimate.append((item.done or 0.0, item.estimate_total))

    def replenish(self, capacity: float | None = None) -> None:
        """Commit from the top of the backlog while Ready has room (and capacity lasts)."""
        if self._replenishing:
            self._replenish_again = True
            return
        board = self.board
        commit = board.commit
        record = self.record
        self._replenishing = True
        try:
            again = True
            while again:
                self._replenish_again = False
                backlog = board.backlog
                # board.ready_has_room(), without the call: once per commit.
                while backlog and (board.ready_wip is None or len(board.ready) < board.ready_wip):
                    item = backlog[0]
                    if capacity is not None:
                        if capacity < item.estimate_total and self._planned_capacity > 0:
                            break
                        capacity -= item.estimate_total
                        self._planned_capacity += item.estimate_total
                    commit(item)
                    if record.keep:
                        record("command", detail=cmd.describe_commit(item.id))
                again = self._replenish_again and capacity is None
        finally:
            self._replenishing = False

    def _replenish_meeting(self) -> None:
        self.record("replenish")
        if self.auto_commit:
            self.replenish()

    def sprint_capacity(self) -> float:
        """Sprint planning's forecast capacity in estimated effort-days.

        Yesterday's weather: the estimates of the items finished in the last
        sprint; before any sprint finished, the team's nominal capacity (each
        present member's best efficiency x sprint days) x the focus factor.
        """
        now = self.clock.now
        days = self.cadence.sprint_days
        if now > 0:
            done = sum(e for t, e in self._completed_estimate if t >= now - days)
            if done > 0:
                return done
        return self.team.nominal_capacity() * days * self.cadence.focus_factor

    def _sprint_planning(self) -> None:
        self.sprint += 1
        self.record("sprint", value=self.sprint, detail="planning")
        if not self.auto_commit:
            return
        capacity = self.sprint_capacity()
        committed = sum(i.estimate_total for i in self.board.ready.values())
        self._planned_capacity = committed
        self.replenish(capacity=max(0.0, capacity - committed))
