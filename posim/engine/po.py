"""The product owner's job: replenishment, triage, questions, reviews, trust.

The engine asks the product owner at decision points: a request arrived, a
question was asked, Ready has room, a review is due.  Two policies answer:

* :class:`StrategyPO` — a scripted PO: an ordering (``wsjf``…), a triage
  policy from the scenario (``product_owner.triage``), a response time for
  questions limited by the PO's daily attention budget, and a reporting policy
  (``honest``, ``optimistic``, ``green``).
* :class:`HumanPO` — a person in the game: every decision arrives as a command
  through :meth:`Simulation.apply`; the engine only keeps the books.

Both share the bookkeeping that makes trust react to reality: promises,
deliveries, ignored requests, missed reports and escalations, all through the
rules of :mod:`posim.engine.trust`, each change a ``trust`` record with its
cause and explanation.
"""

from __future__ import annotations

import bisect
import functools
import math
from typing import TYPE_CHECKING, Any

from posim.engine import commands as cmd
from posim.engine import forecast as fc
from posim.engine import trust as tr
from posim.engine.journal import plain
from posim.engine.strategies import (
    BuiltinOrdering,
    Ordering,
    StrategyError,
    StrategySpec,
    check_key,
    parse_spec,
    resolve_ordering,
)

if TYPE_CHECKING:
    from posim.engine.items import Item
    from posim.engine.simulation import Simulation

THROUGHPUT_WINDOW_DAYS = 60
"""Most days of throughput history an honest forecast samples from, counted back from
today but never before the first delivery (shorter windows under-cover:
the bootstrap ignores the uncertainty of the mean rate)."""
FORECAST_TRIALS = 200
"""Monte Carlo trials of a strategy's honest forecast at each review."""
FORECAST_LEVEL = 85
"""The percentile an honest report promises."""
AT_RISK_MARGIN_DAYS = 0.0
"""An honest report says at risk when its forecast is later than the promise by more than this."""


class ProductOwnerPolicy:
    """What both a human and a strategy PO share: the books of promises and trust."""

    human = False
    """Whether decisions come from a person (the game)."""
    label = "human"
    """The strategy spec, e.g. ``wsjf+honest``; ``human`` for a person."""
    reporting = "human"
    """The reporting policy name."""

    def __init__(self, sim: Simulation, auto_commit: bool = True) -> None:
        self.sim = sim
        self.auto_commit = auto_commit
        self.promises: list[tr.Promise] = []
        """Every promise ever made, in order."""
        self.trust_changes: list[tuple[float, tr.TrustChange]] = []
        """Every trust change with its day."""
        self.reviews_due: dict[str, float] = {}
        """Stakeholder -> day of the review still waiting for a report."""
        self.po_free_at = 0.0
        """When the PO's attention is free again (days)."""
        self.po_hours_used = 0.0
        self.escalations = 0
        self._replenishing = False
        self._replenish_again = False
        self._completed_estimate: list[tuple[float, float]] = []
        self._planned_capacity = 0.0
        scenario = sim.scenario
        self.cadence = scenario.cadence
        self.budget = scenario.product_owner.daily_budget
        default_review = (
            self.cadence.sprint_days if self.cadence.mode == "scrum" else self.cadence.review_every
        )
        self.review_intervals: dict[str, float] = {
            s.name: s.report_every or default_review
            for s in scenario.stakeholders
            if (s.report_every or default_review) > 0
        }
        """Stakeholder -> days between their status reviews (scrum: each sprint's end)."""
        self._continuous = (
            self.auto_commit and self.cadence.mode == "kanban" and self.cadence.replenish_every == 0
        )
        """Whether Ready is refilled the moment it has room (kanban without meetings)."""

    # -- hooks the simulation calls ------------------------------------

    def start(self) -> None:
        """Schedule the routine: replenishment, sprints and reviews."""
        sim = self.sim
        cadence = self.cadence
        if cadence.mode == "scrum":
            sim.every(0.0, cadence.sprint_days, self._sprint_planning)
        elif cadence.replenish_every > 0:
            sim.every(0.0, cadence.replenish_every, self._replenish_meeting)
        for name, interval in self.review_intervals.items():
            sim.every(interval, interval, functools.partial(self._review, name))
        self._set_next_review()
        if self._continuous:
            self.replenish()

    def priority(self, item: Item) -> Any:
        """Backlog sort key for an arriving item (None: a person places it)."""
        return None

    def pull_rank(self, item: Item, backlog_key: Any) -> Any:
        """Rank of a committed item in the pull queues (lower first)."""
        return (float(item.commit_seq),)

    def on_backlog_changed(self) -> None:
        """The backlog grew or Ready's limit changed."""
        if self._continuous:
            self.replenish()

    def on_request(self, item: Item) -> None:
        """A request landed in the inbox."""
        stakeholder = self.sim.stakeholders[item.requester or ""]
        self.sim.schedule(stakeholder.patience, lambda: self._patience_over(item, 1))

    def on_accepted(self, item: Item) -> None:
        """A request was accepted into the backlog."""

    def on_declined(self, item: Item) -> None:
        """A request was declined."""
        stakeholder = self.sim.stakeholders.get(item.requester or "")
        if stakeholder is not None:
            self._change(tr.on_decline(stakeholder.name, stakeholder.influence, item.id))

    def on_question(self, item: Item) -> None:
        """An item is blocked by a clarification question."""

    def on_report(self, report: cmd.Report) -> None:
        """A status report was given (a new promise)."""
        sim = self.sim
        state = sim.stakeholders[report.stakeholder]
        open_ids = tuple(i.id for i in sim.open_items(report.stakeholder))
        promise = tr.Promise(
            report.stakeholder, sim.now, report.status, report.forecast_day, open_ids
        )
        old = state.last_report
        if old is not None and old.item_ids and not self._delivered(old):
            change = tr.on_reforecast(old, promise)
            if change is not None:
                self._change(change)
        state.last_report = promise if open_ids else None
        state.promises.append(promise)
        self.promises.append(promise)
        self.reviews_due.pop(report.stakeholder, None)
        if not self.reviews_due:
            sim.review_due = False
        sim.record(
            "report",
            stakeholder=report.stakeholder,
            value=report.forecast_day,
            detail=report.status,
        )

    def on_done(self, item: Item) -> None:
        """An item reached Done: check the promise it belongs to."""
        sim = self.sim
        self._completed_estimate.append((item.done or 0.0, item.estimate_total))
        if item.requester is None:
            return
        state = sim.stakeholders.get(item.requester)
        if state is None or state.last_report is None:
            return
        promise = state.last_report
        if item.id in promise.item_ids and self._delivered(promise):
            self._change(tr.on_delivery(promise, sim.now))
            state.last_report = None

    def finish(self) -> None:
        """At the horizon: open promises whose day has passed count as late."""
        sim = self.sim
        for state in sim.stakeholders.values():
            promise = state.last_report
            if promise is not None and not self._delivered(promise):
                change = tr.on_horizon(promise, sim.horizon)
                if change is not None:
                    self._change(change)
                state.last_report = None

    # -- shared machinery ----------------------------------------------

    def _delivered(self, promise: tr.Promise) -> bool:
        items = self.sim.items
        return all(items[i - 1].done is not None for i in promise.item_ids)

    def _change(self, change: tr.TrustChange) -> None:
        sim = self.sim
        state = sim.stakeholders[change.stakeholder]
        before = state.trust
        state.trust = tr.apply(before, change.delta)
        state.trust_history.append((sim.now, state.trust, change.cause))
        self.trust_changes.append((sim.now, change))
        sim.record(
            "trust",
            stakeholder=change.stakeholder,
            value=state.trust - before,
            detail=f"{change.cause}: {change.explanation}",
        )
        if tr.escalates(before, state.trust):
            self.escalations += 1
            sim.record(
                "escalation",
                stakeholder=change.stakeholder,
                value=state.trust,
                detail=f"trust fell below {tr.ESCALATION_THRESHOLD:g}",
            )
            self.attention(tr.ESCALATION_PO_HOURS, sim.now)

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

    def _patience_over(self, item: Item, periods: int) -> None:
        sim = self.sim
        if item.state != "inbox":
            return
        state = sim.stakeholders[item.requester or ""]
        waited = sim.now - item.arrived
        sim.record("expired", item.id, stakeholder=state.name, value=waited)
        self._change(tr.on_ignored(state.name, state.influence, waited, state.patience, item.id))
        sim.schedule(state.patience, lambda: self._patience_over(item, periods + 1))

    def _review(self, name: str) -> None:
        sim = self.sim
        if name in self.reviews_due:
            self._change(tr.on_missed_report(name, self.reviews_due[name]))
        self.reviews_due[name] = sim.now
        sim.review_due = True
        sim.record("review", stakeholder=name)
        self._set_next_review()
        self.on_review_due(name)

    def _set_next_review(self) -> None:
        """The next day any stakeholder's review falls due (None: no reviews)."""
        now = self.sim.now
        self.sim.next_review = min(
            ((math.floor(now / i + 1e-9) + 1) * i for i in self.review_intervals.values()),
            default=None,
        )

    def on_review_due(self, name: str) -> None:
        """A review with ``name`` is due (a strategy reports; a person is asked)."""

    def replenish(self, capacity: float | None = None) -> None:
        """Commit from the top of the backlog while Ready has room (and capacity lasts)."""
        if self._replenishing:
            self._replenish_again = True
            return
        sim = self.sim
        self._replenishing = True
        try:
            again = True
            while again:
                self._replenish_again = False
                backlog = sim.backlog
                while backlog and sim.ready_has_room():
                    item = backlog[0]
                    if capacity is not None:
                        if capacity < item.estimate_total and self._planned_capacity > 0:
                            break
                        capacity -= item.estimate_total
                        self._planned_capacity += item.estimate_total
                    if sim.keep_records:
                        sim.apply(cmd.Commit(item.id), automatic=True)
                    else:  # the same commit without building a command nobody keeps
                        sim.commit(item)
                again = self._replenish_again and capacity is None
        finally:
            self._replenishing = False

    def _replenish_meeting(self) -> None:
        self.sim.record("replenish")
        if self.auto_commit:
            self.replenish()

    def sprint_capacity(self) -> float:
        """Sprint planning's forecast capacity in estimated effort-days.

        Yesterday's weather: the estimates of the items finished in the last
        sprint; before any sprint finished, the team's nominal capacity (each
        present member's best efficiency x sprint days) x the focus factor.
        """
        sim = self.sim
        days = self.cadence.sprint_days
        if sim.now > 0:
            done = sum(e for t, e in self._completed_estimate if t >= sim.now - days)
            if done > 0:
                return done
        nominal = sum(max(m.efficiency) for m in sim.members if m.present and not m.gone)
        return nominal * days * self.cadence.focus_factor

    def _sprint_planning(self) -> None:
        sim = self.sim
        sim.sprint += 1
        sim.record("sprint", value=sim.sprint, detail="planning")
        if not self.auto_commit:
            return
        capacity = self.sprint_capacity()
        committed = sum(i.estimate_total for i in sim.ready.values())
        self._planned_capacity = committed
        self.replenish(capacity=max(0.0, capacity - committed))

    # -- reporting policies ------------------------------------------

    def items_ahead(self, name: str) -> tuple[int, list[Item]]:
        """How many items must be done before the stakeholder's last open item is.

        Everything started or in Ready counts, plus the backlog down to the
        stakeholder's lowest-ranked item.
        """
        sim = self.sim
        mine = sim.open_items(name)
        if not mine:
            return 0, mine
        in_flow = len(sim.ready) + sum(sim.counts)
        backlog = sim.backlog
        last_backlog = len(backlog) - 1  # scanned from the end: the last is usually near it
        while last_backlog >= 0 and backlog[last_backlog].requester != name:
            last_backlog -= 1
        return in_flow + last_backlog + 1, mine

    def optimistic_day(self, mine: list[Item]) -> float:
        """Sum of the remaining estimates / the team's nominal capacity per day."""
        sim = self.sim
        capacity = sum(max(m.efficiency) for m in sim.members if m.present and not m.gone)
        work = 0.0
        for item in mine:
            if item.state in ("backlog", "ready"):
                work += item.estimate_total
            else:
                for column, estimate in enumerate(item.estimate):
                    if item.column_entered.get(column) is None or column == item.column:
                        work += estimate
        return sim.now + work / max(capacity, 1e-9)

    def forecast(self, name: str | None, trials: int = FORECAST_TRIALS) -> fc.Forecast:
        """Monte Carlo "when" forecast for a stakeholder's open items (None: all work)."""
        sim = self.sim
        if name is None:
            ahead = len(sim.backlog) + len(sim.ready) + sum(sim.counts)
        else:
            ahead, _ = self.items_ahead(name)
        done_days = sim.done_days
        window = THROUGHPUT_WINDOW_DAYS
        if done_days:
            # Sample only since the first delivery: the days the board spent
            # filling up are not the flow's throughput (they would make every
            # early forecast far too pessimistic).
            window = max(0, min(window, math.floor(sim.now) - math.floor(done_days[0])))
        recent = done_days[bisect.bisect_left(done_days, math.floor(sim.now) - window) :]
        history = fc.throughput_history(recent, sim.now, window)
        rng = sim.streams.get("forecast", name or "")
        return fc.when_done(history, ahead, rng, trials=trials, start_day=math.floor(sim.now))

    def honest_day(self, name: str) -> float:
        """The 85th-percentile Monte Carlo forecast from observed daily throughput.

        With no throughput yet, the optimistic day stands in.
        """
        sim = self.sim
        forecast = self.forecast(name)
        if not forecast.has_data:
            return self.optimistic_day(sim.open_items(name))
        day = forecast.percentiles[FORECAST_LEVEL]
        return day if math.isfinite(day) else sim.horizon * 2


def _decision(command: cmd.Command) -> tuple[str, object]:
    """What a command decides on: a request's triage, an item's question, a report."""
    if isinstance(command, cmd.Accept | cmd.Decline):
        return ("triage", command.item)
    if isinstance(command, cmd.Answer):
        return ("answer", command.item)
    if isinstance(command, cmd.Report):
        return ("report", command.stakeholder)
    return ("other", command)


class HumanPO(ProductOwnerPolicy):
    """A person plays the PO: the engine waits for their commands.

    With :attr:`spends_time` set (save format 2) and a scenario that gives the
    PO a ``daily_budget``, a person's triage (accept, decline), answers and
    reports cost the same hours as a strategy's: each is booked on the PO's
    attention (:meth:`ProductOwnerPolicy.attention`) and takes effect when the
    PO gets it done, exactly as :class:`StrategyPO` schedules its own.  Until
    then it waits in :attr:`waiting`.
    """

    human = True

    def __init__(self, sim: Simulation, auto_commit: bool = True) -> None:
        super().__init__(sim, auto_commit)
        self.spends_time = False
        """Whether a person's triage, answers and reports spend the daily budget."""
        self.waiting: list[tuple[float, cmd.Command]] = []
        """Commands given but waiting for the PO's time: (day they take effect, command)."""

    def hours_for(self, command: cmd.Command) -> float:
        """The PO hours a command costs (the scenario's triage, answer and review hours)."""
        po = self.sim.scenario.product_owner
        if isinstance(command, cmd.Accept | cmd.Decline):
            return po.triage_hours
        if isinstance(command, cmd.Answer):
            return po.answer_hours
        if isinstance(command, cmd.Report):
            return po.review_hours
        return 0.0

    def book(self, command: cmd.Command) -> float | None:
        """Book a person's command on the PO's time: the day it takes effect (None: now).

        Raises :class:`~posim.engine.commands.CommandError` when the command
        could not be applied now, or the same decision already waits.
        """
        if not self.spends_time or not self.budget:
            return None
        hours = self.hours_for(command)
        if hours <= 0:
            return None
        sim = self.sim
        self._check(command)
        when = self.attention(hours, sim.now)
        self.waiting.append((when, command))
        sim.record("waiting", value=when, detail=plain(command))
        sim.schedule(when - sim.now, functools.partial(self._carry_out, command))
        return when

    def _check(self, command: cmd.Command) -> None:
        sim = self.sim
        key = _decision(command)
        for _, other in self.waiting:
            if _decision(other) == key:
                what = {
                    "triage": f"your decision on request #{key[1]}",
                    "answer": f"your answer on #{key[1]}",
                    "report": f"your report to {key[1]}",
                }.get(key[0], "it")
                raise cmd.CommandError(f"{what} already waits for your time")
        if isinstance(command, cmd.Accept | cmd.Decline):
            if sim.item(command.item).state != "inbox":
                raise cmd.CommandError(f"#{command.item} is not in the inbox")
        elif isinstance(command, cmd.Answer):
            if sim.item(command.item).active_block != "question":
                raise cmd.CommandError(f"#{command.item} has no open question")
        elif isinstance(command, cmd.Report):
            if command.stakeholder not in sim.stakeholders:
                raise cmd.CommandError(f"no stakeholder {command.stakeholder!r}")
            if command.status not in ("on_track", "at_risk", "late"):
                raise cmd.CommandError(f"unknown status {command.status!r}")
            if not math.isfinite(command.forecast_day) or command.forecast_day < 0:
                raise cmd.CommandError("the forecast day must be a day >= 0")

    def _carry_out(self, command: cmd.Command) -> None:
        self.waiting = [entry for entry in self.waiting if entry[1] is not command]
        try:
            self.sim.apply(command, automatic=True)
        except cmd.CommandError as error:  # pragma: no cover - checked when booked
            self.sim.record("dropped", detail=f"{cmd.describe(command)}: {error}")


class StrategyPO(ProductOwnerPolicy):
    """A scripted PO: ordering + triage + response time + reporting policy."""

    def __init__(self, sim: Simulation, strategy: str | Any, reporting: str = "honest") -> None:
        super().__init__(sim, auto_commit=True)
        if isinstance(strategy, str):
            spec: StrategySpec = parse_spec(strategy, reporting)
            self.ordering: Ordering = resolve_ordering(spec.ordering)
            self.label = strategy if "+" in strategy else spec.ordering
            self.reporting = spec.reporting
        else:
            self.ordering = strategy
            self.reporting = reporting
            self.label = getattr(strategy, "name", type(strategy).__name__)
        if self.reporting not in ("honest", "optimistic", "green"):
            raise ValueError(f"unknown reporting policy {self.reporting!r}")
        po = sim.scenario.product_owner
        self.triage_policy = po.triage
        self.value_bar = po.value_bar
        self.backlog_cap = po.backlog_cap
        self.response_days = po.response_days
        self.answer_hours = po.answer_hours
        self.review_hours = po.review_hours
        self.triage_hours = po.triage_hours
        self._triage_hook = getattr(self.ordering, "triage", None)
        self._accept_all = self._triage_hook is None and self.triage_policy == "accept_all"
        """Triage accepts every request (the default): nothing to ask."""
        # Built-in keys read only what a PO can see, and Item carries those
        # fields under the same names: skip building a view on the hot path.
        self._fast_key = self.ordering.key if isinstance(self.ordering, BuiltinOrdering) else None

    def priority(self, item: Item) -> Any:
        """The ordering's key (computed once, when the item enters the backlog)."""
        if self._fast_key is not None:
            return self._fast_key(item)  # type: ignore[arg-type]
        key = self._user_call("priority", self.ordering.priority, self.sim.view(item), self.sim.now)
        return check_key(key, self.label)

    def _user_call(self, method: str, function: Any, *args: Any) -> Any:
        """Call a user strategy's method; its failure becomes a one-line StrategyError."""
        try:
            return function(*args)
        except Exception as error:
            raise StrategyError(
                f"strategy {self.label!r}: {method}() raised {type(error).__name__}: {error}"
            ) from None

    def pull_rank(self, item: Item, backlog_key: Any) -> Any:
        """Committed items are pulled in the ordering's order too (the backlog key)."""
        if backlog_key is None:
            return self.priority(item)
        return backlog_key

    def on_request(self, item: Item) -> None:
        """Triage at once, or when the PO's attention allows."""
        sim = self.sim
        if self.budget:
            now = sim.now
            when = self.attention(self.triage_hours, now)
            if when <= now:
                self._triage(item)
            else:
                sim.schedule(when - now, lambda: self._triage(item))
        else:
            self._triage(item)
        if item.state == "inbox":
            super().on_request(item)

    def _triage(self, item: Item) -> None:
        sim = self.sim
        if item.state != "inbox":
            return
        if self._accept_all or self._accepts(item):
            if sim.keep_records:
                sim.apply(cmd.Accept(item.id), automatic=True)
            else:  # the same acceptance without building a command nobody keeps
                sim.accept(item)
        else:
            sim.apply(cmd.Decline(item.id), automatic=True)

    def _accepts(self, item: Item) -> bool:
        if self._triage_hook is not None:
            accept = self._user_call(
                "triage", self._triage_hook, self.sim.view(item), self.sim.snapshot()
            )
            return bool(accept)
        if self.triage_policy == "value_bar":
            return item.value / max(item.estimate_total, 1e-9) >= self.value_bar
        if self.triage_policy == "cap_backlog":
            return len(self.sim.backlog) < self.backlog_cap
        return True

    def on_question(self, item: Item) -> None:
        """Answer after the response time, when the PO's attention allows."""
        sim = self.sim
        when = self.attention(self.answer_hours, sim.now + self.response_days)
        sim.schedule(when - sim.now, lambda: self._answer(item))

    def _answer(self, item: Item) -> None:
        if item.active_block == "question":
            self.sim.apply(cmd.Answer(item.id), automatic=True)

    def on_review_due(self, name: str) -> None:
        """Report to the stakeholder with the reporting policy."""
        sim = self.sim
        self.attention(self.review_hours, sim.now)
        status, day = self.forecast_report(name)
        sim.apply(cmd.Report(name, status, day), automatic=True)

    def forecast_report(self, name: str) -> tuple[cmd.Status, float]:
        """The status and forecast day this PO's reporting policy gives ``name``."""
        sim = self.sim
        state = sim.stakeholders[name]
        previous = state.last_report
        if self.reporting == "green":
            # Never move a promise: while the promised items are not all done,
            # repeat the day; only a new set of items gets a new (optimistic) day.
            if previous is not None:
                return "on_track", previous.forecast_day
            return "on_track", round(self.optimistic_day(self.items_ahead(name)[1]), 1)
        if self.reporting == "optimistic":
            day = round(self.optimistic_day(self.items_ahead(name)[1]), 1)
            if previous is not None and day > previous.forecast_day:
                return "at_risk", day
            return "on_track", day
        day = round(self.honest_day(name), 1)
        if previous is not None and day > previous.forecast_day + AT_RISK_MARGIN_DAYS:
            late = sim.now > previous.forecast_day
            return ("late" if late else "at_risk"), day
        return "on_track", day
