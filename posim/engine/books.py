"""The PO's books: the inbox, stakeholders' trust, promises, reviews, attention.

:class:`Books` owns the inbox, each stakeholder's live state
(:class:`StakeholderState`: trust and its history, promises, the last report),
every promise and trust change, the reviews waiting for a report, the
escalations and the PO's booked attention.  It is the only writer of all of
them: the product owner's decisions (:mod:`posim.engine.po`) and the player
reach it through the simulation's commands, and every trust change goes
through :meth:`Books.change`, by the rules of :mod:`posim.engine.trust`, as a
``trust`` record with its cause and explanation.

The books close at the horizon (:meth:`Books.close`, an event of the
simulation): open promises whose day has passed count as late.
"""

from __future__ import annotations

import bisect
import math

from posim.engine import trust as tr
from posim.engine.clock import Clock
from posim.engine.commands import Command, Status
from posim.engine.items import Item
from posim.engine.records import Recorder
from posim.scenario import Scenario


class StakeholderState:
    """A stakeholder's live state: trust, promises, reviews."""

    __slots__ = (
        "influence",
        "last_report",
        "name",
        "patience",
        "product",
        "promises",
        "report_every",
        "role",
        "trust",
        "trust_history",
    )

    def __init__(
        self,
        name: str,
        role: str,
        influence: float,
        trust: float,
        patience: float,
        report_every: float | None,
        product: str | None,
    ) -> None:
        self.name = name
        self.role = role
        self.influence = influence
        self.trust = trust
        self.patience = patience
        self.report_every = report_every
        self.product = product
        self.promises: list[tr.Promise] = []
        self.last_report: tr.Promise | None = None
        """The open promise (None: none, or delivered)."""
        self.trust_history: list[tuple[float, float, str]] = [(0.0, trust, "start")]
        """``(day, trust after, cause)`` for the start and every change."""


class Books:
    """The PO's books (see the module docstring)."""

    def __init__(
        self, scenario: Scenario, clock: Clock, record: Recorder, items: list[Item]
    ) -> None:
        self.clock = clock
        self.record = record
        self.items = items
        """Every item (the arrivals' list, read only)."""
        self.stakeholders: dict[str, StakeholderState] = {
            s.name: StakeholderState(
                s.name, s.role, s.influence, s.trust, s.patience, s.report_every, s.product
            )
            for s in scenario.stakeholders
        }
        self.inbox: list[Item] = []
        """Requests waiting for the PO's triage, oldest first."""
        self._open: dict[str, dict[int, Item]] = {}
        """Stakeholder -> their accepted items not yet done, by id (in id order unless
        the stakeholder is in :attr:`_unsorted`)."""
        self._unsorted: set[str] = set()
        self._tracked: dict[str, list[Item]] = {}
        """Stakeholder -> every item they ever waited for, in the order accepted."""
        self._pending: dict[str, int] = {}
        """Stakeholder -> how many of their open promise's items are not done yet."""
        self._reach: list[int] = []
        """For each promise, how many of its stakeholder's items were tracked when it
        was made (its items are those of them not yet done)."""
        self.promises: list[tr.Promise] = []
        """Every promise ever made, in order."""
        self.trust_changes: list[tuple[float, tr.TrustChange]] = []
        """Every trust change with its day."""
        self.reviews_due: dict[str, float] = {}
        """Stakeholder -> day of the review still waiting for a report."""
        self.escalations = 0
        self.budget = scenario.product_owner.daily_budget
        """The PO's hours per day (None: attention is never the bottleneck)."""
        self.po_free_at = 0.0
        """When the PO's attention is free again (days)."""
        self.po_hours_used = 0.0
        self.waiting: list[tuple[float, Command]] = []
        """A person's commands booked on the PO's time and not yet carried out:
        ``(day they take effect, command)`` (see :meth:`Simulation.apply`)."""
        self.closed = False
        """Whether the books were closed at the horizon."""

    @property
    def review_due(self) -> bool:
        """Whether any review waits for a report."""
        return bool(self.reviews_due)

    # -- the inbox and the items stakeholders wait for -----------------

    def receive(self, item: Item) -> None:
        """A request lands in the inbox."""
        self.inbox.append(item)

    def take_from_inbox(self, item: Item) -> None:
        """The PO took a request out of the inbox (accepted or declined)."""
        inbox = self.inbox
        if inbox[-1] is item:
            inbox.pop()
        else:
            inbox.remove(item)

    def track(self, item: Item) -> None:
        """An accepted item: its requester now waits for it."""
        requester = item.requester
        if requester is not None:
            open_items = self._open.get(requester)
            if open_items is None:
                open_items = self._open[requester] = {}
                self._tracked[requester] = []
            elif open_items and item.id < next(reversed(open_items)):
                self._unsorted.add(requester)  # accepted out of arrival order
            open_items[item.id] = item
            self._tracked[requester].append(item)

    def open_items(self, stakeholder: str) -> list[Item]:
        """The stakeholder's accepted items that are not done, oldest first."""
        return list(self._open_by_id(stakeholder).values())

    def _open_by_id(self, stakeholder: str) -> dict[int, Item]:
        """The stakeholder's open items by id, in id order (sorted only when accepted
        out of order, not at every review: the backlog of an overloaded flow is long)."""
        open_items = self._open.get(stakeholder)
        if open_items is None:
            return {}
        if stakeholder in self._unsorted:
            self._unsorted.discard(stakeholder)
            open_items = self._open[stakeholder] = dict(sorted(open_items.items()))
        return open_items

    def declined(self, item: Item) -> None:
        """The PO declined a request: the requester minds."""
        self.take_from_inbox(item)
        item.state = "declined"
        item.declined = self.clock.now
        self.record("declined", item.id, stakeholder=item.requester)
        stakeholder = self.stakeholders.get(item.requester or "")
        if stakeholder is not None:
            self.change(tr.on_decline(stakeholder.name, stakeholder.influence, item.id))

    def wait_for_triage(self, item: Item) -> None:
        """Start the requester's patience: each time it runs out in the inbox, trust falls."""
        stakeholder = self.stakeholders[item.requester or ""]
        self.clock.call(stakeholder.patience, lambda _event: self._patience_over(item, 1))

    def _patience_over(self, item: Item, periods: int) -> None:
        if item.state != "inbox":
            return
        state = self.stakeholders[item.requester or ""]
        waited = self.clock.now - item.arrived
        self.record("expired", item.id, stakeholder=state.name, value=waited)
        self.change(tr.on_ignored(state.name, state.influence, waited, state.patience, item.id))
        self.clock.call(state.patience, lambda _event: self._patience_over(item, periods + 1))

    def delivered_item(self, item: Item) -> None:
        """An item reached Done: nobody waits for it; check the promise it belongs to."""
        requester = item.requester
        if requester is None:
            return
        open_items = self._open.get(requester)
        if open_items is not None:
            open_items.pop(item.id, None)
        state = self.stakeholders.get(requester)
        if state is None:
            return
        promise = state.last_report
        if promise is None:
            return
        ids = promise.item_ids  # in id order
        index = bisect.bisect_left(ids, item.id)
        if index < len(ids) and ids[index] == item.id:  # one of the promise's items
            pending = self._pending[requester] - 1
            self._pending[requester] = pending
            if not pending:  # its last item: delivered
                self.change(tr.on_delivery(promise, self.clock.now))
                state.last_report = None

    # -- reviews and promises ------------------------------------------

    def review_falls_due(self, name: str) -> None:
        """A review with ``name`` is due; a review still unanswered counts as missed."""
        if name in self.reviews_due:
            self.change(tr.on_missed_report(name, self.reviews_due[name]))
        self.reviews_due[name] = self.clock.now
        if self.record.keep:
            self.record("review", stakeholder=name)

    def report(self, stakeholder: str, status: Status, forecast_day: float) -> None:
        """A status report was given: a new promise (checked by the caller)."""
        now = self.clock.now
        state = self.stakeholders[stakeholder]
        open_ids = tuple(self._open_by_id(stakeholder))
        promise = tr.Promise(stakeholder, now, status, forecast_day, open_ids)
        old = state.last_report
        if old is not None and old.item_ids and self._pending[stakeholder]:
            change = tr.on_reforecast(old, promise)
            if change is not None:
                self.change(change)
        state.last_report = promise if open_ids else None
        reach = len(self._tracked.get(stakeholder, ()))
        self._pending[stakeholder] = len(open_ids)
        state.promises.append(promise)
        self.promises.append(promise)
        self._reach.append(reach)
        self.reviews_due.pop(stakeholder, None)
        if self.record.keep:
            self.record("report", stakeholder=stakeholder, value=forecast_day, detail=status)

    def deliveries(self) -> list[float | None]:
        """For each promise, in order: the day its last item was done (None: not all
        done yet, or it covered none).

        One pass over each stakeholder's items, not one over every promise's
        items: a promise covers the items its stakeholder was waiting for when it
        was made, which are the ones tracked by then less those done by then, and
        those were done no later than the rest, so the last day is the latest
        day over everything tracked by then.
        """
        out: list[float | None] = []
        cursors: dict[str, tuple[int, float, int]] = {}
        for promise, reach in zip(self.promises, self._reach, strict=True):
            if not promise.item_ids:
                out.append(None)
                continue
            name = promise.stakeholder
            tracked = self._tracked[name]
            index, latest, undone = cursors.get(name, (0, -math.inf, 0))
            while index < reach:
                done = tracked[index].done
                if done is None:
                    undone += 1
                elif done > latest:
                    latest = done
                index += 1
            cursors[name] = (index, latest, undone)
            out.append(latest if undone == 0 else None)
        return out

    def close(self, horizon: float) -> None:
        """At the horizon: open promises whose day has passed count as late."""
        if self.closed:
            return
        self.closed = True
        for state in self.stakeholders.values():
            promise = state.last_report
            if promise is not None and self._pending[state.name]:
                change = tr.on_horizon(promise, horizon)
                if change is not None:
                    self.change(change)
                state.last_report = None

    # -- trust and attention -------------------------------------------

    def change(self, change: tr.TrustChange) -> None:
        """Apply a trust change (and an escalation, when trust falls below the threshold)."""
        now = self.clock.now
        state = self.stakeholders[change.stakeholder]
        before = state.trust
        state.trust = tr.apply(before, change.delta)
        state.trust_history.append((now, state.trust, change.cause))
        self.trust_changes.append((now, change))
        if self.record.keep:  # the record's text only when it is kept
            self.record(
                "trust",
                stakeholder=change.stakeholder,
                value=state.trust - before,
                detail=f"{change.cause}: {change.explanation}",
            )
        if tr.escalates(before, state.trust):
            self.escalations += 1
            self.record(
                "escalation",
                stakeholder=change.stakeholder,
                value=state.trust,
                detail=f"trust fell below {tr.ESCALATION_THRESHOLD:g}",
            )
            self.attention(tr.ESCALATION_PO_HOURS, now)

    def attention(self, hours: float, earliest: float) -> float:
        """Book ``hours`` of PO attention no earlier than ``earliest``; return when done.

        With no daily budget, attention is never the bottleneck: ``earliest``.
        """
        self.po_hours_used += hours
        if self.budget is None:
            return earliest
        start = max(earliest, self.po_free_at)
        self.po_free_at = start + hours / self.budget
        return self.po_free_at
