"""The simulation: a team pulling work through a product owner's Kanban board.

:class:`Simulation` is built from a validated :class:`~posim.scenario.Scenario`
and a root seed.  It wires the engine's parts together and owns nothing of
their state; each part is a module a newcomer can read alone:

=====================  ===========================================================
:mod:`.clock`          the one module touching SimPy's internals
:mod:`.team`           members, skills, ramp-up, absences, joining and leaving
:mod:`.board`          backlog, Ready, columns, WIP limits, who pulls what
:mod:`.arrivals`       items, their hidden luck, the stakeholders' request streams
:mod:`.books`          the PO's books: inbox, promises, reviews, trust, attention
:mod:`.cadence`        replenishment, sprints, review days
:mod:`.reporting`      what each reporting policy would say (reads, never writes)
:mod:`.metrics`        the metrics (one function, mid-run and at the end), Result
:mod:`.snapshot`       the read-only picture the UI shows
:mod:`.po`             the product owner's decisions: a strategy or a person
=====================  ===========================================================

Every product-owner decision is a command applied through :meth:`Simulation.apply`
(a strategy's own accepts and commits call the same rules, through
:meth:`accept_automatic` and the cadence's commit).  Whether records are kept
changes what is recorded, never what happens: the parts call the recorder,
which keeps a record only when asked to (``tests/engine/test_fast_paths.py``).

The horizon is an event: at the horizon day, before anything else that day,
the books close (open promises whose day has passed count as late), so a
snapshot and a result taken at the horizon agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import simpy

from posim.engine import commands as cmd
from posim.engine.arrivals import Arrivals
from posim.engine.board import Board, QueueEntry
from posim.engine.books import Books, StakeholderState
from posim.engine.cadence import Cadence
from posim.engine.clock import GC_THRESHOLD, Clock
from posim.engine.forecast import Forecast
from posim.engine.items import Item, ItemView
from posim.engine.metrics import Result, compute_metrics, item_rows, metrics_and_score
from posim.engine.po import HumanPO, ProductOwner, StrategyPO
from posim.engine.randomness import Streams
from posim.engine.records import Record, Recorder
from posim.engine.reporting import Reporter, Suggestion
from posim.engine.snapshot import (
    ColumnView,
    MemberView,
    Snapshot,
    StakeholderView,
    build_snapshot,
)
from posim.engine.strategies import Ordering
from posim.engine.team import MemberState, Team
from posim.scenario import Scenario

__all__ = [
    "GC_THRESHOLD",
    "ColumnView",
    "MemberView",
    "Simulation",
    "Snapshot",
    "StakeholderView",
    "simulate",
]


class Simulation:
    """One live simulation of a scenario with one root seed."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        strategy: str | Ordering | None = "fifo",
        reporting: str = "honest",
        *,
        keep_records: bool = True,
        auto_commit: bool = True,
    ) -> None:
        """Build the model.

        ``strategy`` is an ordering name, a ``ORDERING+REPORTING`` spec, an
        ordering object, or ``None`` for a human PO (the game), whose decisions
        arrive through :meth:`apply`.  ``auto_commit`` (human PO only) commits
        the top of the backlog whenever Ready has room, as a team would pull
        the next most important item.
        """
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.horizon = float(scenario.horizon_days)
        self.env = clock = Clock()
        self.streams = Streams(self.seed)
        self.recorder = record = Recorder(clock, keep_records)
        self.keep_records = keep_records
        self.activities = scenario.activities
        self.commands: list[tuple[float, cmd.Command]] = []
        """The commands a person gave, with their days: ``(scenario, seed, commands)``
        replays the game."""
        self.opening: int | None = None
        """How many commands came before the clock first ran through a day (None: it never
        has): they apply before the events of day 0 (see :meth:`run_through`)."""
        self.spends_time = False
        """A person's game (save format 2): with a ``daily_budget``, a person's triage,
        answers and reports spend the PO's time (see :meth:`apply`)."""
        self._by_item: dict[int, list[Record]] = {}
        self._indexed = 0

        self.team = Team(scenario, clock, self.streams, record)
        self.board = board = Board(scenario, clock, record, self.team.members)
        self.arrivals = arrivals = Arrivals(scenario, clock, self.streams, record)
        self.books = books = Books(scenario, clock, record, arrivals.items)
        human = strategy is None
        self.cadence = cadence = Cadence(
            scenario,
            clock,
            record,
            board,
            self.team,
            auto_commit=auto_commit or not human,
            horizon=self.horizon,
        )
        self.reporter = Reporter(board, books, self.team, clock, self.streams, self.horizon)
        self.po: ProductOwner = (
            HumanPO() if strategy is None else StrategyPO(self, scenario, strategy, reporting)
        )
        self.strategy_label = self.po.label

        # Wiring: who is told what.
        team = self.team
        team.on_joined = board.joined
        team.on_leaving = board.leaving
        team.on_away = board.away
        team.on_back = board.back
        board.priority = self.po.priority_function
        board.pull_rank = self.po.pull_rank
        board.refill = cadence.replenish if cadence.continuous else None
        board.on_question = self.po.on_question
        # Only an effect or a sprint needs more than the books when an item is done.
        board.on_done = (
            self._item_done
            if arrivals.any_effects or cadence.sprints
            else self.books.delivered_item
        )
        # A strategy that accepts every request at once skips the inbox (see _accept_request).
        arrivals.on_request = self._accept_request if self.po.accepts_at_once else self._request
        cadence.review = self._review_due

        arrivals.create_backlog(self._place)
        arrivals.start_requests(self.horizon)
        team.schedule_events(scenario.events)
        team.schedule_random_absences(self.horizon)
        cadence.start()
        # The team starts on the clock's first step, so a person can still
        # reorder the backlog at day 0 before anyone pulls.
        self.schedule(0.0, board.start_team)
        clock.at_horizon(self.horizon, self._close)

    # ------------------------------------------------------------------
    # How the parts are told about each other
    # ------------------------------------------------------------------

    def _place(self, item: Item) -> None:
        """An item of the starting backlog."""
        self.books.track(item)
        self.board.to_backlog(item, None, refill=False)

    def _request(self, item: Item) -> None:
        """A stakeholder's request arrived: into the inbox, then the PO's triage."""
        books = self.books
        books.receive(item)
        self.po.on_request(item)
        if item.state == "inbox":
            books.wait_for_triage(item)

    def _accept_request(self, item: Item) -> None:
        """A request a strategy accepts the moment it arrives (it accepts every request
        and has no daily budget to wait for): the accept rule without the inbox it would
        leave at once (:meth:`accept_automatic` less :meth:`Books.take_from_inbox`)."""
        self._accepted(item, None)
        if self.recorder.keep:
            self.recorder("command", detail=cmd.describe_accept(item.id))

    def _item_done(self, item: Item) -> None:
        """An item reached Done: its effect, the sprint's yesterday's weather, the promises."""
        effects = self.arrivals.effects
        if effects:
            effect = effects.get(item.id)
            if effect is not None:
                parts = self.board.apply_effect(effect)
                if effect.skill is not None:
                    column = self.board.column_index[effect.skill.activity]
                    self.team.set_skill(effect.skill.member, column, effect.skill.efficiency)
                    parts.append(f"{effect.skill.member} can do {effect.skill.activity}")
                self.record("effect", item.id, detail="; ".join(parts))
                self.board.dispatch()
        if self.cadence.sprints:
            self.cadence.item_done(item)
        self.books.delivered_item(item)

    def _review_due(self, name: str) -> None:
        self.books.review_falls_due(name)
        self.cadence.reviewed()
        self.po.on_review_due(name)

    def _close(self, event: simpy.Event) -> None:
        """The horizon: close the books."""
        self.books.close(self.horizon)

    # ------------------------------------------------------------------
    # The PO's desk (see posim.engine.po.Desk)
    # ------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Current simulated day."""
        return self.env.now

    def record(
        self,
        kind: str,
        item: int | None = None,
        column: str | None = None,
        member: str | None = None,
        stakeholder: str | None = None,
        value: float | None = None,
        detail: str = "",
    ) -> None:
        """Append a record (when records are kept)."""
        self.recorder(kind, item, column, member, stakeholder, value, detail)

    def accept_automatic(self, item: Item) -> None:
        """A strategy accepts ``item`` (the accept rule, recorded as a command)."""
        self.accept(item)
        if self.recorder.keep:
            self.recorder("command", detail=cmd.describe_accept(item.id))

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Call ``action`` after ``delay`` days (no process needed)."""
        self.env.call(delay, lambda _event: action())

    def every(self, start: float, interval: float, action: Callable[[], None]) -> None:
        """Call ``action`` at ``start`` and every ``interval`` days until the horizon."""
        self.cadence.every(start, interval, action)

    def attention(self, hours: float, earliest: float) -> float:
        """Book ``hours`` of PO attention no earlier than ``earliest``; return when done."""
        return self.books.attention(hours, earliest)

    def suggested_report(
        self, stakeholder: str, policy: str = "honest", *, with_forecast: bool = True
    ) -> Suggestion:
        """What reporting ``policy`` would tell ``stakeholder`` now, and the forecast behind it.

        The game offers the player this suggestion (``honest``: the 85th
        percentile of the same Monte Carlo forecast a strategy reports, with
        the optimistic day while nothing is done yet).  Reads, never writes:
        the forecast draws from its own stream, never the luck's.
        """
        if stakeholder not in self.books.stakeholders:
            raise cmd.CommandError(f"no stakeholder {stakeholder!r}")
        return self.reporter.suggestion(policy, stakeholder, with_forecast=with_forecast)

    def suggested_reports(self, policy: str = "honest") -> dict[str, Suggestion]:
        """:meth:`suggested_report` for every stakeholder."""
        return {name: self.suggested_report(name, policy) for name in self.books.stakeholders}

    def view(self, item: Item) -> ItemView:
        """What a PO can see of ``item``."""
        return item.view(self.activities)

    def backlog_size(self) -> int:
        """How many items are in the backlog."""
        return len(self.board.backlog)

    def item(self, item_id: int) -> Item:
        """The item with id ``item_id``; raises :class:`CommandError` if none."""
        items = self.arrivals.items
        if 1 <= item_id <= len(items):
            return items[item_id - 1]
        raise cmd.CommandError(f"no item #{item_id}")

    # ------------------------------------------------------------------
    # Commands
    # ------------------------------------------------------------------

    def apply(self, command: cmd.Command, *, automatic: bool = False) -> None:
        """Apply one PO command now; raises :class:`CommandError` when not allowed.

        This is the single path for every decision, human or strategy.  The
        commands a person gives (``automatic`` false) are kept in
        :attr:`commands`, so ``(scenario, seed, commands)`` replays the game.

        With :attr:`spends_time` set (save format 2) and a scenario that gives
        the PO a ``daily_budget``, a person's triage (accept, decline), answers
        and reports cost the same hours as a strategy's: each is booked on the
        PO's attention and takes effect when the PO gets it done, exactly as
        a strategy's own; until then it waits in the books
        (:attr:`Books.waiting <posim.engine.books.Books.waiting>`).
        """
        if not automatic and self.spends_time and self._book(command):
            self.commands.append((self.now, command))  # it waits for the PO's time
            return
        if isinstance(command, cmd.Reorder):
            self._reorder(command)
        elif isinstance(command, cmd.Commit):
            self._commit(command)
        elif isinstance(command, cmd.Accept):
            item = self.item(command.item)
            if item.state != "inbox":
                raise cmd.CommandError(f"#{item.id} is not in the inbox")
            self.accept(item, command.rank)
        elif isinstance(command, cmd.Decline):
            item = self.item(command.item)
            if item.state != "inbox":
                raise cmd.CommandError(f"#{item.id} is not in the inbox")
            self.books.declined(item)
        elif isinstance(command, cmd.Answer):
            item = self.item(command.item)
            if item.active_block != "question":
                raise cmd.CommandError(f"#{item.id} has no open question")
            self.board.answer(item)
        elif isinstance(command, cmd.Report):
            self._report(command)
        elif isinstance(command, cmd.SetWip):
            self._set_wip(command)
        else:
            raise cmd.CommandError(f"unknown command {command!r}")
        if not automatic:
            self.commands.append((self.now, command))
        if self.recorder.keep:
            self.record("command", detail=cmd.describe(command))

    def _hours_for(self, command: cmd.Command) -> float:
        """The PO hours a person's command costs (the scenario's triage, answer, review hours)."""
        po = self.scenario.product_owner
        if isinstance(command, cmd.Accept | cmd.Decline):
            return po.triage_hours
        if isinstance(command, cmd.Answer):
            return po.answer_hours
        if isinstance(command, cmd.Report):
            return po.review_hours
        return 0.0

    def _book(self, command: cmd.Command) -> bool:
        """Book a person's command on the PO's time; False: it applies now.

        Raises :class:`CommandError` when the command could not be applied
        now, or the same decision already waits.
        """
        books = self.books
        if not books.budget or not self.po.human:
            return False
        hours = self._hours_for(command)
        if hours <= 0:
            return False
        self._check_booking(command)
        when = books.attention(hours, self.now)
        books.waiting.append((when, command))
        self.record("waiting", value=when, detail=cmd.plain(command))
        self.schedule(when - self.now, lambda: self._carry_out(command))
        return True

    def _check_booking(self, command: cmd.Command) -> None:
        key = _decision(command)
        for _, other in self.books.waiting:
            if _decision(other) == key:
                what = {
                    "triage": f"your decision on request #{key[1]}",
                    "answer": f"your answer on #{key[1]}",
                    "report": f"your report to {key[1]}",
                }.get(key[0], "it")
                raise cmd.CommandError(f"{what} already waits for your time")
        if isinstance(command, cmd.Accept | cmd.Decline):
            if self.item(command.item).state != "inbox":
                raise cmd.CommandError(f"#{command.item} is not in the inbox")
        elif isinstance(command, cmd.Answer):
            if self.item(command.item).active_block != "question":
                raise cmd.CommandError(f"#{command.item} has no open question")
        elif isinstance(command, cmd.Report):
            if command.stakeholder not in self.books.stakeholders:
                raise cmd.CommandError(f"no stakeholder {command.stakeholder!r}")
            if command.status not in ("on_track", "at_risk", "late"):
                raise cmd.CommandError(f"unknown status {command.status!r}")
            if not math.isfinite(command.forecast_day) or command.forecast_day < 0:
                raise cmd.CommandError("the forecast day must be a day >= 0")

    def _carry_out(self, command: cmd.Command) -> None:
        """The PO got to a booked command: it takes effect now."""
        waiting = self.books.waiting
        for index, (_, other) in enumerate(waiting):
            if other is command:
                del waiting[index]
                break
        try:
            self.apply(command, automatic=True)
        except cmd.CommandError as error:  # pragma: no cover - checked when booked
            self.record("dropped", detail=f"{cmd.describe(command)}: {error}")

    def accept(self, item: Item, rank: int | None = None) -> None:
        """Move an inbox item to the backlog (no checks: see :meth:`apply`)."""
        self.books.take_from_inbox(item)
        self._accepted(item, rank)

    def _accepted(self, item: Item, rank: int | None) -> None:
        """The accept rule past the inbox: the requester waits for it; into the backlog."""
        if self.recorder.keep:
            self.record("accepted", item.id, "backlog", stakeholder=item.requester, value=rank)
        self.books.track(item)
        self.board.to_backlog(item, rank)

    def commit(self, item: Item) -> None:
        """Move a backlog item to Ready (no checks: see :meth:`apply`)."""
        self.board.commit(item)

    def _reorder(self, command: cmd.Reorder) -> None:
        if not self.po.human:
            raise cmd.CommandError("a strategy orders the backlog by its own key")
        item = self.item(command.item)
        if item.state != "backlog":
            raise cmd.CommandError(f"#{item.id} is not in the backlog")
        self.board.reorder(item, command.rank)

    def _commit(self, command: cmd.Commit) -> None:
        item = self.item(command.item)
        if item.state != "backlog":
            raise cmd.CommandError(f"#{item.id} is not in the backlog")
        if not self.board.ready_has_room() and item.cls != "expedite":
            raise cmd.CommandError(f"Ready is full (WIP limit {self.board.ready_wip})")
        self.board.commit(item)

    def _report(self, command: cmd.Report) -> None:
        if command.stakeholder not in self.books.stakeholders:
            raise cmd.CommandError(f"no stakeholder {command.stakeholder!r}")
        if command.status not in ("on_track", "at_risk", "late"):
            raise cmd.CommandError(f"unknown status {command.status!r}")
        if not math.isfinite(command.forecast_day) or command.forecast_day < 0:
            raise cmd.CommandError("the forecast day must be a day >= 0")
        self.books.report(command.stakeholder, command.status, command.forecast_day)

    def _set_wip(self, command: cmd.SetWip) -> None:
        if command.limit is not None and command.limit < 1:
            raise cmd.CommandError("a WIP limit must be at least 1")
        if command.column != "ready" and command.column not in self.board.column_index:
            raise cmd.CommandError(f"no column {command.column!r}")
        self.board.set_wip(command.column, command.limit)

    # ------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------

    def run_until(self, day: float) -> None:
        """Advance the clock to ``day`` (capped at the horizon)."""
        self.env.run_until(min(float(day), self.horizon))

    def run_through(self, day: float, stop: Callable[[], bool] | None = None) -> bool:
        """Advance the clock through ``day``: every event at or before ``day`` happens.

        Unlike :meth:`run_until`, which stops *before* the ordinary events at
        exactly ``day``, this runs each moment's events to the last, so a
        command applied afterwards comes after them (save format 2; see
        :mod:`posim.saves`).  At the horizon it is :meth:`run_until`: the books
        close, and the ordinary events of the horizon day never happen.  With
        ``stop``, the clock stops at the first moment before ``day`` after
        whose events ``stop()`` is true (the game's auto-pause); returns
        whether it stopped there.
        """
        if self.opening is None:
            self.opening = len(self.commands)
        day = float(day)
        if day < self.horizon:
            return self.env.run_through(day, stop)
        if self.env.run_through(self.horizon, stop, inclusive=False):
            return True
        self.env.run_until(self.horizon)
        return False

    def run(self) -> None:
        """Run to the horizon."""
        self.run_until(self.horizon)

    @property
    def finished(self) -> bool:
        """Whether the clock has reached the horizon."""
        return self.env.now >= self.horizon

    # ------------------------------------------------------------------
    # Results
    # ------------------------------------------------------------------

    def forecast(self, stakeholder: str | None = None, trials: int = 1000) -> Forecast:
        """Monte Carlo "when" forecast (50/70/85/95) from observed throughput.

        For a stakeholder: the day their last open item is done, counting the
        items ahead of it; for ``None``: the day everything committed or in the
        backlog is done.  Uses its own random stream, never the luck's.
        """
        return self.reporter.forecast(stakeholder, trials)

    def open_items(self, stakeholder: str) -> list[Item]:
        """The stakeholder's accepted items that are not done, oldest first."""
        return self.books.open_items(stakeholder)

    def item_histories(self) -> dict[int, list[Record]]:
        """Item id -> its records so far (an index kept up to date incrementally)."""
        records = self.recorder.records
        index = self._by_item
        for record in records[self._indexed :]:
            if record.item is not None:
                index.setdefault(record.item, []).append(record)
        self._indexed = len(records)
        return index

    def metrics(self) -> dict[str, float | None]:
        """The metrics so far (at the horizon: of the whole run)."""
        return compute_metrics(self.books, self.now, self.horizon)

    def snapshot(self) -> Snapshot:
        """A read-only, frozen picture of the current state (for the UI)."""
        return build_snapshot(
            now=self.now,
            horizon=self.horizon,
            finished=self.finished,
            board=self.board,
            books=self.books,
            team=self.team,
            cadence=self.cadence,
            by_item=self.item_histories(),
        )

    def result(self) -> Result:
        """The :class:`~posim.engine.metrics.Result` of the run so far."""
        books = self.books
        items = self.arrivals.items
        metrics, score = metrics_and_score(books, self.now, self.horizon)
        return Result(
            scenario=self.scenario.name,
            strategy=self.strategy_label,
            reporting=self.po.reporting,
            seed=self.seed,
            horizon=self.horizon,
            metrics=metrics,
            score=score,
            records=self.recorder.records,
            items=item_rows(items, self.activities) if self.keep_records else [],
            trust_changes=list(books.trust_changes),
            columns=list(self.activities),
            by_product={
                p.name: compute_metrics(books, self.now, self.horizon, p.name)
                for p in self.scenario.products
            },
        )

    # ------------------------------------------------------------------
    # Read-only views of the parts' state (for tests, saves and tools)
    # ------------------------------------------------------------------

    @property
    def records(self) -> list[Record]:
        """Every record so far (empty when records are not kept)."""
        return self.recorder.records

    @property
    def items(self) -> list[Item]:
        """Every item, ``items[id - 1]``."""
        return self.arrivals.items

    @property
    def backlog(self) -> list[Item]:
        """The backlog, top first."""
        return self.board.backlog

    @property
    def ready(self) -> dict[int, Item]:
        """Ready: item id -> item, in commit order."""
        return self.board.ready

    @property
    def ready_wip(self) -> int | None:
        """Ready's limit (None: none)."""
        return self.board.ready_wip

    @property
    def wip(self) -> list[int | None]:
        """Each column's WIP limit (None: none)."""
        return self.board.wip

    @property
    def counts(self) -> list[int]:
        """Items in each column."""
        return self.board.counts

    @property
    def pull(self) -> list[list[QueueEntry]]:
        """Per column: items waiting to enter it."""
        return self.board.pull

    @property
    def resume(self) -> list[list[QueueEntry]]:
        """Per column: items inside it waiting for a member."""
        return self.board.resume

    @property
    def queued(self) -> int:
        """Items in the pull and resume queues."""
        return self.board.queued

    @property
    def done_items(self) -> list[Item]:
        """Done items, in the order they were done."""
        return self.board.done_items

    @property
    def done_days(self) -> list[float]:
        """Days items reached Done, in order."""
        return self.board.done_days

    @property
    def questions(self) -> list[Item]:
        """Items blocked by a question, waiting for the PO."""
        return self.board.questions

    @property
    def column_index(self) -> dict[str, int]:
        """Column name -> index."""
        return self.board.column_index

    @property
    def members(self) -> list[MemberState]:
        """Every member who ever was on the team."""
        return self.team.members

    @property
    def inbox(self) -> list[Item]:
        """Requests waiting for triage, oldest first."""
        return self.books.inbox

    @property
    def stakeholders(self) -> dict[str, StakeholderState]:
        """Stakeholders' live state by name."""
        return self.books.stakeholders

    @property
    def reviews_due(self) -> dict[str, float]:
        """Stakeholder -> day of the review still waiting for a report."""
        return self.books.reviews_due

    @property
    def review_due(self) -> bool:
        """Whether any review waits for a report."""
        return self.books.review_due

    @property
    def next_review(self) -> float | None:
        """The next day a review falls due (None: no reviews)."""
        return self.cadence.next_review

    @property
    def sprint(self) -> int:
        """The current sprint's number (0: none yet)."""
        return self.cadence.sprint


def _decision(command: cmd.Command) -> tuple[str, object]:
    """What a command decides on: a request's triage, an item's question, a report."""
    if isinstance(command, cmd.Accept | cmd.Decline):
        return ("triage", command.item)
    if isinstance(command, cmd.Answer):
        return ("answer", command.item)
    if isinstance(command, cmd.Report):
        return ("report", command.stakeholder)
    return ("other", command)


def simulate(
    scenario: Scenario,
    strategy: str | Ordering = "fifo",
    reporting: str = "honest",
    seed: int | None = None,
    *,
    commands: Iterable[tuple[float, cmd.Command]] | None = None,
    keep_records: bool = True,
) -> Result:
    """Run ``scenario`` to its horizon and return its :class:`~posim.engine.metrics.Result`.

    With ``commands`` (a replay), the PO is a human whose ``(day, command)``
    list is applied in order, each after advancing the clock to its day
    (:meth:`Simulation.run_until`: the rules of save format 1; the game's own
    saves replay with :func:`posim.saves.restore`, whatever their format).
    """
    if commands is not None:
        sim = Simulation(scenario, seed, strategy=None, keep_records=keep_records)
        for day, command in commands:
            sim.run_until(day)
            sim.apply(command)
    else:
        sim = Simulation(
            scenario, seed, strategy=strategy, reporting=reporting, keep_records=keep_records
        )
    sim.run()
    return sim.result()
