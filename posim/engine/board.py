"""The board: backlog, Ready, the work columns and their WIP limits, and who pulls what.

:class:`Board` owns where every accepted item is (backlog, Ready, a column,
Done), the per-column counts and limits, the pull queues, the items blocked
by a question, and what each member is doing (``waiting``, ``item`` and the
``work_*`` fields of :class:`~posim.engine.team.MemberState`).

The Kanban shape: a free member takes the highest-ranked item it can work on
whose next column has room, expedite items first (they may exceed a limit by
one).  A defect found in the last activity sends the item back upstream at
once, whatever the limit there (waiting for room could deadlock a full board).
Pull queues are heaps keyed once per item, so a pull costs O(columns x log
items), never a re-sort of the backlog.  Members are not SimPy processes: a
piece of work is one timeout whose callback finishes it (one event per piece
of work; see docs/performance.md).

The board asks upward through hooks the simulation sets: ``priority`` and
``pull_rank`` (the product owner's order; a committed item with a backlog key
is pulled in that key's order, the others by ``pull_rank``), ``refill``
(continuous replenishment, or None), ``on_question`` and ``on_done``.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from functools import partial
from typing import Any

import simpy

from posim.engine.clock import Clock, Due
from posim.engine.items import CLASS_RANK, Item
from posim.engine.records import Recorder
from posim.engine.strategies import Key
from posim.engine.team import MemberState
from posim.scenario import Effect, Scenario

QueueEntry = tuple[Any, int, Item]
"""A pull-queue entry: (pull key, item id, item)."""


def _nothing(item: Item) -> None:
    """A hook nobody set."""


class Board:
    """Backlog, Ready, columns, pull queues and the work in members' hands."""

    def __init__(
        self, scenario: Scenario, clock: Clock, record: Recorder, members: list[MemberState]
    ) -> None:
        self.clock = clock
        self.record = record
        self.members = members
        """The team's members (the team adds and removes them; the board only reads the list)."""
        self.activities = scenario.activities
        self.column_index = {name: i for i, name in enumerate(self.activities)}
        ncols = len(self.activities)
        self.wip: list[int | None] = [c.wip for c in scenario.workflow]
        self.ready_wip = scenario.ready_wip
        self.counts = [0] * ncols
        """Items in each column (in progress, blocked, or finished and waiting)."""
        self.pull: list[list[QueueEntry]] = [[] for _ in range(ncols)]
        """Per column: items waiting to enter it (from Ready or the column before)."""
        self.resume: list[list[QueueEntry]] = [[] for _ in range(ncols)]
        """Per column: items inside it waiting for a member (paused, unblocked, rework)."""
        self.queued = 0
        """How many items wait in the pull and resume queues (none: nothing to pick)."""
        self.waiting_members = 0
        """How many members wait for work (present or not)."""
        self.backlog: list[Item] = []
        self._backlog_keys: list[Any] = []
        """The backlog's keys, in step with it (None: placed by a person)."""
        self.ready: dict[int, Item] = {}
        self.done_items: list[Item] = []
        self.done_days: list[float] = []
        """Days items reached Done, in order."""
        self._done_per_day: list[int] = []
        """Items finished on each whole day before the last finished item's day (days
        that can take no more), counted as reviews ask."""
        self._days_counted = 0
        """How many of :attr:`done_days` fall on the days of :attr:`_done_per_day`."""
        self.questions: list[Item] = []
        """Items blocked by a clarification question, waiting for the PO."""
        self._commit_seq = 0
        self._dispatching = False
        self._dispatch_again = False
        slip = scenario.slippage
        self.rework_fraction = slip.rework_fraction
        self.defect_rate = slip.defect_rate
        """Current chance that the last activity finds a defect (effects change it)."""
        self.blocker_rate = slip.blocker_rate
        """Current chance that an item gets blocked (effects change it)."""
        self.speed = [1.0] * ncols
        """Multiplier of everyone's efficiency per column (effects change it)."""
        # Hooks (set by the simulation).
        self.priority: Callable[[Item], Key | None] = lambda item: None
        """The product owner's backlog key of an item (None: a person places it)."""
        self.pull_rank: Callable[[Item, Key | None], Key] = lambda item, key: (
            float(item.commit_seq),
        )
        """The product owner's rank in the pull queues of a committed item that had no
        backlog key (a person placed it); an item with a key is pulled in its key's order."""
        self.refill: Callable[[], None] | None = None
        """Continuous replenishment: called when Ready may have room (None: meetings do it)."""
        self.on_question: Callable[[Item], None] = _nothing
        self.on_done: Callable[[Item], None] = _nothing
        self.adopt(members)

    # ------------------------------------------------------------------
    # Backlog and Ready
    # ------------------------------------------------------------------

    def to_backlog(self, item: Item, rank: int | None, *, refill: bool = True) -> None:
        """Put an item in the backlog: at ``rank``, or where the product owner ranks it."""
        item.state = "backlog"
        key = self.priority(item)
        if rank is None and key is not None:
            position = bisect.bisect_right(self._backlog_keys, key)
        else:
            position = len(self.backlog) if rank is None else max(0, min(rank, len(self.backlog)))
        self.backlog.insert(position, item)
        self._backlog_keys.insert(position, key)
        if refill and self.refill is not None:
            ready_wip = self.ready_wip  # ready_has_room(), without the call
            if ready_wip is None or len(self.ready) < ready_wip:
                self.refill()

    def _remove_from_backlog(self, item: Item) -> Key | None:
        """Take ``item`` out of the backlog; return the sort key it had there."""
        position = 0 if self.backlog[0] is item else self.backlog.index(item)
        del self.backlog[position]
        key: Key | None = self._backlog_keys.pop(position)
        return key

    def reorder(self, item: Item, rank: int) -> None:
        """Move a backlog item to ``rank`` (a person's order: no key)."""
        self._remove_from_backlog(item)
        rank = max(0, min(rank, len(self.backlog)))
        self.backlog.insert(rank, item)
        self._backlog_keys.insert(rank, None)

    def has_room(self, column: int, item: Item) -> bool:
        """Whether ``item`` may enter ``column``: under its limit, or one over for expedite.

        (:meth:`_pick` makes the same test inline, on the hot path.)
        """
        limit = self.wip[column]
        count = self.counts[column]
        return limit is None or count < limit or (count == limit and item.cls == "expedite")

    def ready_has_room(self) -> bool:
        """Whether Ready is under its WIP limit."""
        return self.ready_wip is None or len(self.ready) < self.ready_wip

    def commit(self, item: Item) -> None:
        """Move a backlog item to Ready (no checks: see :meth:`Simulation.apply`)."""
        key = self._remove_from_backlog(item)
        self._commit_seq += 1
        now = self.clock.now
        item.state = "ready"
        item.committed = now
        item.commit_seq = self._commit_seq
        rank = key if key is not None else self.pull_rank(item, None)
        item.pull_key = (CLASS_RANK.get(item.cls, 1), rank, item.id)
        self.ready[item.id] = item
        if self.record.keep:
            self.record("committed", item.id, "ready")
        if not item.route:  # nothing to do: straight to Done
            del self.ready[item.id]
            self._finish(item)
            return
        self._enqueue(self.pull[item.route[0]], item)
        if self.waiting_members:  # _dispatch's own first test, without the call
            self._dispatch()

    def set_wip(self, column: str, limit: int | None) -> None:
        """Change a WIP limit (``ready`` or a column's name; the caller checks the name)."""
        if column == "ready":
            self.ready_wip = limit
            if self.refill is not None:
                self.refill()
        else:
            self.wip[self.column_index[column]] = limit
        self.record("wip", column=column, value=limit)
        self._dispatch()

    def answer(self, item: Item) -> None:
        """The PO answered the question blocking ``item``."""
        self.questions.remove(item)
        self._unblock(item)

    def apply_effect(self, effect: Effect) -> list[str]:
        """An improvement changes the board's rates; returns what changed, in words."""
        parts = []
        if effect.defect_rate is not None:
            self.defect_rate = min(1.0, max(0.0, self.defect_rate + effect.defect_rate))
            parts.append(f"defect rate now {self.defect_rate:.2f}")
        if effect.blocker_rate is not None:
            self.blocker_rate = min(1.0, max(0.0, self.blocker_rate + effect.blocker_rate))
            parts.append(f"blocker rate now {self.blocker_rate:.2f}")
        for activity, factor in effect.speed.items():
            column = self.column_index[activity]
            self.speed[column] *= factor
            parts.append(f"{activity} x{self.speed[column]:.2f}")
        return parts

    # ------------------------------------------------------------------
    # Members: who works on what
    # ------------------------------------------------------------------

    def adopt(self, states: list[MemberState]) -> None:
        """New members: their work's timeouts call back here."""
        for state in states:
            state.on_done = partial(self._work_done, state)

    def start_team(self) -> None:
        """The clock's first step: every member of the starting team looks for work, in order."""
        for state in list(self.members):
            if state.item is None and not state.waiting:
                self._member_free(state)

    def joined(self, states: list[MemberState]) -> None:
        """Members joined: each looks for work."""
        self.adopt(states)
        for state in states:
            self._member_free(state)
        self._dispatch()

    def leaving(self, state: MemberState) -> None:
        """A member left for good: no longer waiting; their work goes back to the queue."""
        if state.waiting:
            state.waiting = False
            self.waiting_members -= 1
        self.away(state)

    def away(self, state: MemberState) -> None:
        """Stop an absent or departed member's work; the item keeps its progress."""
        item = state.item
        if item is None or state.work is None:
            return
        now = self.clock.now
        column = item.column
        item.remaining[column] -= (
            state.work_between(column, state.work_start, now) * state.work_speed
        )
        item.worked += now - state.work_start
        state.work = None  # its timeout still fires, and is ignored
        state.item = None
        item.worker = None
        self.record("paused", item.id, self.activities[column], state.name)
        self._enqueue(self.resume[column], item)
        self._dispatch()
        self._member_free(state)

    def back(self, state: MemberState) -> None:
        """An absent member came back."""
        if not state.waiting and state.item is None:
            self._member_free(state)
        else:
            self._dispatch()

    def _member_free(self, state: MemberState) -> None:
        """A member is free: take the best work it can find, or wait for some."""
        if state.gone:
            return
        item = self._pick(state) if state.present and self.queued else None
        if item is None:
            state.waiting = True
            self.waiting_members += 1
        else:
            self._start_work(state, item)

    def _start_work(self, state: MemberState, item: Item) -> None:
        """A member starts (or resumes) work on ``item`` in its column."""
        clock = self.clock
        state.item = item
        item.worker = state.name
        column = item.column
        speed = self.speed[column]
        luck = item.luck
        if item.pending_scope and luck.scope_column == column:
            item.pending_scope = False
            item.remaining[column] += luck.scope_extra
            self.record(
                "scope", item.id, self.activities[column], state.name, value=luck.scope_extra
            )
        amount = item.remaining[column]
        strikes = False
        if (
            item.pending_blocker
            and luck.blocker_column == column
            and luck.blocker_draw < self.blocker_rate
        ):
            left_at_strike = luck.actual[column] * (1.0 - luck.blocker_at)
            strikes = True
            amount = amount - left_at_strike if amount > left_at_strike else 0.0
        if self.record.keep:
            self.record("started", item.id, self.activities[column], state.name)
        start = clock.now
        state.work_start = start
        state.work_amount = amount
        state.work_speed = speed
        state.work_strikes = strikes
        if amount <= 0:
            days = 0.0
        elif state.ramp_days <= 0:  # days_for without the ramp-up
            days = amount / speed / state.efficiency[column]
        else:
            days = state.days_for(column, start, amount / speed)
        state.work = Due(clock, days, state.on_done)

    def _work_done(self, state: MemberState, event: simpy.Event) -> None:
        """The timeout of a member's work fired: finish the piece of work."""
        if event is not state.work:
            return  # the member was taken away meanwhile
        state.work = None
        item = state.item
        assert item is not None
        column = item.column
        item.remaining[column] -= state.work_amount
        item.worked += self.clock.now - state.work_start
        state.item = None
        item.worker = None
        if state.work_strikes:
            item.pending_blocker = False
            self._block(item, "blocker")
            self.clock.call(item.luck.blocker_days, lambda _event: self._unblock(item))
        else:
            # The column's work is finished: on to the next column (or Done), unless
            # the last activity finds a defect.
            item.finished_here = True
            if self.record.keep:
                self.record("finished", item.id, self.activities[column])
            route, pos = item.route, item.route_pos + 1  # item.next_column(), without the call
            if pos < len(route):
                self._enqueue(self.pull[route[pos]], item)
            elif not item.reworked and item.luck.defect_draw < self.defect_rate:
                self._rework(item, column)
            else:
                self.counts[column] -= 1
                self._finish(item)
        if self.waiting_members and self.queued:  # _dispatch's own first test
            self._dispatch()
        self._member_free(state)

    # ------------------------------------------------------------------
    # Flow
    # ------------------------------------------------------------------

    def _enqueue(self, heap: list[QueueEntry], item: Item) -> None:
        """Queue an item for a member (it waits until someone pulls it)."""
        item.queued_since = self.clock.now
        self.queued += 1
        heapq.heappush(heap, (item.pull_key, item.id, item))

    def _dispatch(self) -> None:
        """Give work to every free member who can find some (deterministic order).

        Re-entrant calls (a pull frees Ready, replenishment commits, which
        dispatches again) are folded into the outer loop.
        """
        if not self.waiting_members or not self.queued:
            return  # nobody to give work to, or no work to give
        if self._dispatching:
            self._dispatch_again = True
            return
        self._dispatching = True
        try:
            members = self.members
            again = True
            while again:
                self._dispatch_again = False
                assigned = False
                for state in members:
                    if not self.queued:
                        break
                    if state.waiting and state.present:
                        state.waiting = False
                        self.waiting_members -= 1
                        item = self._pick(state)
                        if item is None:
                            state.waiting = True
                            self.waiting_members += 1
                            continue
                        self._start_work(state, item)
                        assigned = True
                again = assigned or self._dispatch_again
        finally:
            self._dispatching = False

    def _pick(self, state: MemberState) -> Item | None:
        """The best item ``state`` can work on now, taken off its queue (None: nothing).

        An item entering a column with a pending question blocks there and
        the member looks again (a loop, never a recursion: a backlog of
        questions is as deep as it likes).
        """
        wip = self.wip
        counts = self.counts
        pull = self.pull
        resume = self.resume
        while True:
            best_key: Any = None
            best_heap: list[QueueEntry] | None = None
            best_column = -1
            for column in state.columns:
                heap = resume[column]
                if heap and (best_heap is None or heap[0][0] < best_key):
                    best_key, best_heap, best_column = heap[0][0], heap, column
                heap = pull[column]
                if heap and (best_heap is None or heap[0][0] < best_key):
                    # Room in the column: under the limit, or one over for expedite.
                    limit = wip[column]
                    if (
                        limit is None
                        or counts[column] < limit
                        or (counts[column] == limit and heap[0][2].cls == "expedite")
                    ):
                        best_key, best_heap, best_column = heap[0][0], heap, column
            if best_heap is None:
                return None
            item = heapq.heappop(best_heap)[2]
            self.queued -= 1
            item.waiting_time += self.clock.now - item.queued_since
            if best_heap is not pull[best_column]:
                return item
            self._enter(item, best_column)
            if not item.pending_question:
                return item
            item.pending_question = False
            item.worker = None
            self._block(item, "question")
            self.questions.append(item)
            item.question_asked = self.clock.now
            self.on_question(item)

    def _enter(self, item: Item, column: int) -> None:
        """Move an item into ``column`` (from Ready or from the previous column)."""
        now = self.clock.now
        left = item.column
        if left >= 0:
            self.counts[left] -= 1
        else:
            del self.ready[item.id]
            item.state = "column"
            item.started = now
            # Room in Ready: continuous replenishment refills it (when there is work to commit).
            if self.refill is not None and self.backlog:
                self.refill()
        item.column = column
        item.route_pos += 1
        item.finished_here = False
        self.counts[column] += 1
        item.column_entered.setdefault(column, now)
        if self.record.keep:
            self.record("entered", item.id, self.activities[column])
        if left >= 0 and self.wip[left] is not None:
            # A member's own pull freed room upstream: members waiting for it pull now.
            self._dispatch()

    def _block(self, item: Item, cause: str) -> None:
        item.active_block = cause
        item.blocked_since = self.clock.now
        self.record("blocked", item.id, self.activities[item.column], detail=cause)

    def _unblock(self, item: Item) -> None:
        cause = item.active_block or ""
        item.blocked_time[cause] = (
            item.blocked_time.get(cause, 0.0) + self.clock.now - item.blocked_since
        )
        item.active_block = None
        self.record("unblocked", item.id, self.activities[item.column], detail=cause)
        self._enqueue(self.resume[item.column], item)
        self._dispatch()

    def _rework(self, item: Item, column: int) -> None:
        """The last activity found a defect in ``item``: part of the work is done again."""
        item.reworked = True
        route = item.route
        last = route[-1]
        rework = route[-2] if len(route) >= 2 else last
        fraction = self.rework_fraction
        item.remaining[rework] = item.luck.actual[rework] * fraction
        item.remaining[last] = item.luck.actual[last] * fraction
        item.route = route + ((rework, last) if rework != last else (last,))
        self.record("defect", item.id, self.activities[column], value=item.remaining[rework])
        nxt = item.next_column()
        if nxt == column:  # rework in the same column: no move
            item.route_pos += 1
            item.finished_here = False
            self._enqueue(self.resume[column], item)
            return
        # Sent back upstream at once, whatever the limit there: waiting for room
        # would deadlock a board whose upstream column is full of finished work.
        self._enter(item, nxt)
        self._enqueue(self.resume[nxt], item)

    def _finish(self, item: Item) -> None:
        now = self.clock.now
        item.state = "done"
        item.done = now
        if item.started is None:
            item.started = now
        item.column = -1
        self.done_items.append(item)
        self.done_days.append(now)
        if self.record.keep:
            self.record("done", item.id, "done")
        self.on_done(item)

    def throughput(self, start: int, end: int) -> list[int]:
        """Items finished on each whole day from ``start`` to ``end - 1``.

        The same as :func:`posim.engine.forecast.throughput_history` of
        :attr:`done_days` for those days.  :attr:`done_days` is in order, so a
        day's count is the distance between the first items done on or after
        it and on or after the next day, two bisections: a review counts the
        days since the last one, not the items finished in them, and a flow
        without reviews never counts.  Days before the last finished item's
        day can take no more items and are kept; that day itself (it may be
        today) is counted anew at every call.
        """
        per_day = self._done_per_day
        done_days = self.done_days
        first = self._days_counted  # the first item done on day len(per_day) or later
        if done_days:
            last_day = int(done_days[-1])  # floor: days are >= 0
            if last_day > len(per_day):
                for day in range(len(per_day) + 1, last_day + 1):
                    after = bisect.bisect_left(done_days, day, first)
                    per_day.append(after - first)
                    first = after
                self._days_counted = first
        counts = per_day[start:end]
        if len(counts) < end - start:  # the last item's day and after
            pending = max(start, len(per_day))
            tail = [0] * (end - pending)
            if done_days and pending <= len(per_day) < end:
                tail[len(per_day) - pending] = len(done_days) - first
            counts += tail
        return counts

    def dispatch(self) -> None:
        """Give work to every free member who can find some (after a change elsewhere)."""
        self._dispatch()
