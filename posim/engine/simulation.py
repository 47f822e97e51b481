"""The SimPy model: a team pulling work through a product owner's Kanban board.

:class:`Simulation` is built from a validated :class:`~posim.scenario.Scenario`
and a root seed.  Team members pull work (the Kanban shape) as long-lived
state machines rather than SimPy processes: a piece of work is one timeout
whose callback finishes it, so an item costs two SimPy events (its arrival and
its work).  A free member takes the highest-ranked item it can work on
whose next column has room, expedite items first (they may exceed a limit by
one).  A defect found in the last activity sends the item back upstream at
once, whatever the limit there (waiting for room could deadlock a full board).
A newcomer's speed rises linearly from half to full over the ramp-up.  Pull
queues are heaps keyed once per item, so a pull costs O(columns x log items),
never a re-sort of the backlog.

Every product-owner decision is a command applied through :meth:`Simulation.apply`;
a strategy (or a person, through the game) issues them at decision points.
One shortcut, for speed: without records, a strategy's automatic accept and
commit call the same operations (:meth:`Simulation.accept`,
:meth:`Simulation.commit`) without building a command object nobody keeps,
and an item accepted into an empty backlog while Ready has room goes straight
to Ready, as replenishment would at once.  ``tests/engine/test_fast_paths.py``
requires identical runs with records on and off.
"""

from __future__ import annotations

import bisect
import functools
import gc
import heapq
import math
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

import simpy

from posim.engine import commands as cmd
from posim.engine.distributions import Sampler, sampler
from posim.engine.items import CLASS_RANK, Item, ItemView, Luck
from posim.engine.po import HumanPO, ProductOwnerPolicy, StrategyPO
from posim.engine.randomness import Streams
from posim.engine.records import Record
from posim.scenario import BacklogItem, GeneratedItems, Member, Scenario, Template

_new_tuple = tuple.__new__

GC_THRESHOLD = 100_000
"""Generation-0 garbage-collection threshold while the clock runs (Python's default: 700)."""


class MemberState:
    """A team member's live state."""

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
        # Downstream first: finishing beats starting when ranks tie.
        self.columns = [c for c in range(len(efficiency) - 1, -1, -1) if efficiency[c] > 0]
        self.joined = joined
        self.ramp_days = ramp
        self.present = True
        self.gone = False
        self.waiting = False
        self.item: Item | None = None
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
        self.promises: list[Any] = []
        self.last_report: Any = None
        self.trust_history: list[tuple[float, float, str]] = [(0.0, trust, "start")]


class _Due(simpy.Event):
    """A timeout born with its callback: ``env.timeout(delay)`` and ``callbacks.append``
    in one step (the same event, scheduled the same way; one is built per piece of
    work and per request, so the saving counts)."""

    def __init__(
        self, env: simpy.Environment, delay: float, callback: Callable[[simpy.Event], None]
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, simpy.events.NORMAL, delay)


class _CompiledTemplate:
    """A template with its distributions compiled into samplers."""

    __slots__ = ("columns", "cost_of_delay", "due_in", "effort", "template", "unsampled", "value")

    def __init__(
        self,
        template: Template,
        value: Sampler,
        cost_of_delay: Sampler,
        effort: tuple[Sampler | None, ...],
        due_in: Sampler | None,
    ) -> None:
        self.template = template
        self.value = value
        self.cost_of_delay = cost_of_delay
        self.effort = effort
        """A sampler per column (None: the template has no work there)."""
        self.columns = tuple(c for c, s in enumerate(effort) if s is not None)
        """The columns with a sampler, in order."""
        self.unsampled = len(effort) - len(self.columns)
        self.due_in = due_in


class _RequestStream:
    """A stakeholder's live stream of requests (see :meth:`Simulation._start_requests`)."""

    __slots__ = (
        "cls",
        "count",
        "day",
        "gap",
        "name",
        "on_arrival",
        "pending",
        "rng",
        "template",
        "title",
        "until",
    )

    def __init__(
        self,
        name: str,
        template: str,
        cls: str | None,
        title: str,
        gap: Sampler,
        rng: Any,
        first: float,
        until: float,
    ) -> None:
        self.name = name
        self.template = template
        self.cls = cls
        self.title = title
        """Title of a request without its number."""
        self.gap = gap
        self.rng = rng
        self.day = first
        """Day of the latest request drawn."""
        self.until = until
        self.count = 0
        self.pending = False
        """Whether a request is due when the next timeout fires."""
        self.on_arrival: Callable[[simpy.Event], None] = lambda event: None


@dataclass(frozen=True, slots=True)
class ColumnView:
    """A work column as the UI sees it."""

    name: str
    wip: int | None
    items: tuple[ItemView, ...]
    """Items in the column (in progress, blocked, or finished and waiting)."""
    finished: tuple[int, ...]
    """Ids of the items whose work here is finished (waiting to be pulled on)."""


@dataclass(frozen=True, slots=True)
class MemberView:
    """A team member as the UI sees it."""

    name: str
    skills: dict[str, float]
    present: bool
    working_on: int | None


@dataclass(frozen=True, slots=True)
class StakeholderView:
    """A stakeholder as the UI sees it."""

    name: str
    role: str
    influence: float
    trust: float
    product: str | None
    promise_day: float | None
    promise_status: str | None
    open_items: tuple[int, ...]
    """Ids of this stakeholder's accepted items that are not done."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A read-only picture of the simulation for the UI."""

    time: float
    horizon: float
    finished: bool
    backlog: tuple[ItemView, ...]
    ready: tuple[ItemView, ...]
    ready_wip: int | None
    columns: tuple[ColumnView, ...]
    done: tuple[ItemView, ...]
    inbox: tuple[ItemView, ...]
    questions: tuple[ItemView, ...]
    """Items blocked by a clarification question, waiting for the PO."""
    members: tuple[MemberView, ...]
    stakeholders: tuple[StakeholderView, ...]
    review_due: bool
    """A status review is due: the PO should report to every stakeholder."""
    next_review: float | None
    metrics: dict[str, float | None]


class Simulation:
    """One live simulation of a scenario with one root seed."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        strategy: str | Any | None = "fifo",
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
        self.env = simpy.Environment(0.0)  # a float clock from the start
        self.streams = Streams(self.seed)
        self.keep_records = keep_records
        self.records: list[Record] = []
        self.activities = scenario.activities
        self.column_index = {name: i for i, name in enumerate(self.activities)}
        ncols = len(self.activities)
        self.wip: list[int | None] = [c.wip for c in scenario.workflow]
        self.ready_wip = scenario.ready_wip
        self.counts = [0] * ncols
        self.pull: list[list[tuple[Any, int, Item]]] = [[] for _ in range(ncols)]
        self.resume: list[list[tuple[Any, int, Item]]] = [[] for _ in range(ncols)]
        self.items: list[Item] = []
        self.backlog: list[Item] = []
        self._backlog_keys: list[Any] = []
        self.inbox: list[Item] = []
        self.ready: dict[int, Item] = {}
        self.done_items: list[Item] = []
        self.questions: list[Item] = []
        self.commands: list[tuple[float, cmd.Command]] = []
        self.opening: int | None = None
        """How many commands came before the clock first ran through a day (None: it never
        has): they apply before the events of day 0 (see :meth:`run_through`)."""
        self._commit_seq = 0
        self._dispatching = False
        self._dispatch_again = False
        self.waiting_members = 0
        """How many members wait for work (present or not)."""
        self.queued = 0
        """How many items wait in the pull and resume queues (none: nothing to pick)."""
        self._open: dict[str, dict[int, Item]] = {}
        self.done_days: list[float] = []
        """Days items reached Done, in order."""
        self._slip = scenario.slippage
        self.defect_rate = self._slip.defect_rate
        """Current chance that the last activity finds a defect (effects change it)."""
        self.blocker_rate = self._slip.blocker_rate
        """Current chance that an item gets blocked (effects change it)."""
        self.speed = [1.0] * len(scenario.workflow)
        """Multiplier of everyone's efficiency per column (effects change it)."""
        self._effects: dict[int, Any] = {}
        self._luck_streams: dict[str, tuple[Any, Any, Any, Any]] = {}
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            cmd.Reorder: self._do_reorder,
            cmd.Commit: self._do_commit,
            cmd.Accept: self._do_accept,
            cmd.Decline: self._do_decline,
            cmd.Answer: self._do_answer,
            cmd.Report: self._do_report,
            cmd.SetWip: self._do_set_wip,
        }
        effects = [t.effect for t in scenario.templates.values() if t.effect is not None] + [
            b.effect
            for b in scenario.backlog
            if isinstance(b, BacklogItem) and b.effect is not None
        ]
        # Draw only the luck a scenario can ever use (the choice depends on the
        # scenario, never on the strategy, so common random numbers hold).
        self._draw_defects = self.defect_rate > 0 or any(e.defect_rate for e in effects)
        self._draw_blockers = self.blocker_rate > 0 or any(e.blocker_rate for e in effects)
        slip = self._slip
        self._plain_luck = not (
            slip.effort_sigma > 0
            or slip.iceberg_rate > 0
            or self._draw_defects
            or slip.question_rate > 0
            or slip.scope_rate > 0
            or self._draw_blockers
        )
        """No slippage at all: an item's luck is its estimate and a tie-break draw."""
        self._blocker_days: Sampler = sampler(self._slip.blocker_days)
        self._scope_fraction: Sampler = sampler(self._slip.scope_fraction)
        self._templates: dict[str, _CompiledTemplate] = {
            name: self._compile_template(t) for name, t in scenario.templates.items()
        }
        self.stakeholders: dict[str, StakeholderState] = {
            s.name: StakeholderState(
                s.name, s.role, s.influence, s.trust, s.patience, s.report_every, s.product
            )
            for s in scenario.stakeholders
        }
        self.members: list[MemberState] = []
        self.review_due = False
        self.next_review: float | None = None
        self.sprint = 0
        self.po: ProductOwnerPolicy
        if strategy is None:
            self.po = HumanPO(self, auto_commit=auto_commit)
        else:
            self.po = StrategyPO(self, strategy, reporting)
        self.strategy_label = self.po.label
        self._priority: Callable[[Item], Any] = self.po.priority
        """The PO's backlog key of an item (None: a person places it)."""
        self._pull_rank: Callable[[Item, Any], Any] = self.po.pull_rank
        self._straight_through = not keep_records and self.po._continuous
        """Items accepted into an empty backlog may skip it (see :meth:`_to_backlog`)."""
        for member in scenario.team:
            self._add_members(member, joined=0.0, ramp=0.0, start=False)
        self._building = True
        self._create_backlog()
        self._building = False
        for stakeholder in scenario.stakeholders:
            if stakeholder.requests is not None:
                self._start_requests(stakeholder.name)
        for event in scenario.events:
            self.env.process(self._scripted_event(event))
        self._schedule_random_absences()
        self.po.start()
        # The team starts on the clock's first step, so a person can still
        # reorder the backlog at day 0 before anyone pulls.
        self.schedule(0.0, self._start_team)

    # ------------------------------------------------------------------
    # Records
    # ------------------------------------------------------------------

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
        if self.keep_records:
            self.records.append(
                Record(self.env.now, kind, item, column, member, stakeholder, value, detail)
            )

    @property
    def now(self) -> float:
        """Current simulated day.

        The hot paths read SimPy's ``env._now`` directly: ``env.now`` is a
        property, and an item reads the clock about ten times.
        """
        return float(self.env.now)

    # ------------------------------------------------------------------
    # Items
    # ------------------------------------------------------------------

    def _compile_template(self, template: Template) -> _CompiledTemplate:
        return _CompiledTemplate(
            template,
            sampler(template.value),
            sampler(template.cost_of_delay),
            tuple(
                sampler(template.effort[a]) if a in template.effort else None
                for a in self.activities
            ),
            sampler(template.due_in) if template.due_in is not None else None,
        )

    def _source_streams(self, source: str) -> tuple[Any, Any, Any, Any]:
        """The attributes, slippage, blockers and tie-break streams of a source (cached)."""
        streams = self._luck_streams.get(source)
        if streams is None:
            streams = (
                self.streams.get("attributes", source),
                self.streams.get("slippage", source),
                self.streams.get("blockers", source),
                self.streams.get("tiebreak", source),
            )
            self._luck_streams[source] = streams
        return streams

    def _draw_luck(
        self, streams: tuple[Any, Any, Any, Any], estimate: tuple[float, ...]
    ) -> tuple[Luck, list[int]]:
        """Draw everything random about an item from its source's streams (a scenario
        with slippage; without, :meth:`_new_item` draws only a tie-break).

        Returns the luck and the item's route (the columns it has work in).
        """
        _, rng, blockers, tiebreaks = streams
        slip = self._slip
        sigma = slip.effort_sigma
        factor_iceberg = 1.0
        if slip.iceberg_rate > 0 and rng.random() < slip.iceberg_rate:
            factor_iceberg = slip.iceberg_factor
        if sigma > 0 or factor_iceberg != 1.0:
            actual = tuple(
                (e * (rng.lognormvariate(0.0, sigma) if sigma > 0 else 1.0) * factor_iceberg)
                if e > 0
                else 0.0
                for e in estimate
            )
        else:
            actual = estimate
        route = [i for i, e in enumerate(actual) if e > 0]
        defect_draw = rng.random() if self._draw_defects else 1.0
        question = slip.question_rate > 0 and rng.random() < slip.question_rate
        scope_column, scope_extra = -1, 0.0
        if slip.scope_rate > 0 and rng.random() < slip.scope_rate and route:
            scope_column = route[int(rng.random() * len(route))]
            scope_extra = actual[scope_column] * self._scope_fraction(rng)
        blocker_draw = 1.0
        blocker_column, blocker_at, blocker_days = -1, 0.0, 0.0
        if route and self._draw_blockers:
            blocker_draw = blockers.random()
            blocker_column = route[int(blockers.random() * len(route))]
            blocker_at = blockers.random()
            blocker_days = self._blocker_days(blockers)
        tiebreak = tiebreaks.random()
        luck = Luck(
            actual,
            defect_draw,
            blocker_draw,
            blocker_column,
            blocker_at,
            blocker_days,
            question,
            scope_column,
            scope_extra,
            tiebreak,
        )
        return luck, route

    def _new_item(
        self,
        source: str,
        title: str,
        kind: Any,
        cls: Any,
        value: float,
        cost_of_delay: float,
        estimate: tuple[float, ...],
        requester: str | None,
        product: str | None,
        due: float | None,
        late_value_loss: float,
        streams: tuple[Any, Any, Any, Any] | None = None,
        route: list[int] | None = None,
    ) -> Item:
        """Create an item, draw its luck and register it (``route``: its columns with
        work, when the caller knows them)."""
        if streams is None:
            streams = self._source_streams(source)
        if self._plain_luck:  # no slippage: only the tie-break is random
            # Luck(...) without the named tuple's keyword-capable __new__: half the cost.
            luck = _new_tuple(
                Luck, (estimate, 1.0, 1.0, -1, 0.0, 0.0, False, -1, 0.0, streams[3].random())
            )
            if route is None:
                route = [i for i, e in enumerate(estimate) if e > 0]
        else:
            luck, route = self._draw_luck(streams, estimate)
        items = self.items
        item = Item(
            len(items) + 1,
            title,
            kind,
            cls,
            value,
            cost_of_delay,
            estimate,
            luck,
            requester,
            product,
            due,
            late_value_loss,
            self.env._now,
            route,
        )
        if requester is not None:
            item.influence = self.stakeholders[requester].influence
        items.append(item)
        if self.keep_records:
            self.record("arrived", item.id, detail=source)
        return item

    def _item_from_template(
        self, name: str, source: str, requester: str | None, title: str, cls: str | None = None
    ) -> Item:
        compiled = self._templates[name]
        template = compiled.template
        streams = self._source_streams(source)
        rng = streams[0]
        value = compiled.value(rng)
        cost = compiled.cost_of_delay(rng)
        estimate = tuple([0.0 if s is None else s(rng) for s in compiled.effort])
        # Samplers never return < 0: when the zeros are just the columns without a
        # sampler, the route is every sampled column (no scan of the estimate).
        route = list(compiled.columns) if estimate.count(0.0) == compiled.unsampled else None
        due = None
        if compiled.due_in is not None:
            due = self.env.now + compiled.due_in(rng)
        product = template.product
        if requester is not None and product is None:
            product = self.stakeholders[requester].product
        item = self._new_item(
            source,
            title or template.title or name,
            template.kind,
            cls or template.cls,
            value,
            cost,
            estimate,
            requester,
            product,
            due,
            template.late_value_loss,
            streams,
            route,
        )
        if template.effect is not None:
            self._effects[item.id] = template.effect
        return item

    def _create_backlog(self) -> None:
        for entry in self.scenario.backlog:
            if isinstance(entry, BacklogItem):
                estimate = tuple(float(entry.effort.get(a, 0.0)) for a in self.activities)
                product = entry.product
                if product is None and entry.requester is not None:
                    product = self.stakeholders[entry.requester].product
                item = self._new_item(
                    "backlog",
                    entry.title,
                    entry.kind,
                    entry.cls,
                    entry.value,
                    entry.cost_of_delay,
                    estimate,
                    requester=entry.requester,
                    product=product,
                    due=entry.due,
                    late_value_loss=entry.late_value_loss,
                )
                if entry.effect is not None:
                    self._effects[item.id] = entry.effect
                self._to_backlog(item, None)
            else:
                assert isinstance(entry, GeneratedItems)
                template = self.scenario.templates[entry.template]
                prefix = template.title or entry.template.replace("_", " ").capitalize()
                for _ in range(entry.generate):
                    n = len(self.items) + 1
                    item = self._item_from_template(
                        entry.template, "backlog", entry.requester, f"{prefix} {n}"
                    )
                    self._to_backlog(item, None)

    def view(self, item: Item) -> ItemView:
        """What a PO can see of ``item``."""
        requester = self.stakeholders.get(item.requester) if item.requester else None
        return ItemView(
            id=item.id,
            title=item.title,
            kind=item.kind,
            cls=item.cls,
            value=item.value,
            cost_of_delay=item.cost_of_delay,
            estimate=item.estimate,
            estimate_total=item.estimate_total,
            requester=item.requester,
            influence=requester.influence if requester else 0.0,
            product=item.product,
            due=item.due,
            arrived=item.arrived,
            tiebreak=item.luck.tiebreak,
            state=item.state,
            column=self.activities[item.column] if item.column >= 0 else None,
            blocked=item.active_block,
            started=item.started,
            done=item.done,
            committed=item.committed,
        )

    def item(self, item_id: int) -> Item:
        """The item with id ``item_id``; raises :class:`CommandError` if none."""
        if 1 <= item_id <= len(self.items):
            return self.items[item_id - 1]
        raise cmd.CommandError(f"no item #{item_id}")

    # ------------------------------------------------------------------
    # Backlog, inbox, Ready
    # ------------------------------------------------------------------

    def _to_backlog(self, item: Item, rank: int | None) -> None:
        """Put an item in the backlog: at ``rank``, or where the strategy ranks it."""
        item.state = "backlog"
        requester = item.requester
        if requester is not None:
            open_items = self._open.get(requester)
            if open_items is None:
                open_items = self._open[requester] = {}
            open_items[item.id] = item
        key = self._priority(item)
        if (
            not self.backlog
            and rank is None
            and self._straight_through
            and not self._building
            and not self.po._replenishing
            and self.ready_has_room()
        ):
            # Into an empty backlog with room in Ready: replenishment would commit it
            # at once, so skip the backlog (the same commit; records off only, as an
            # automatic commit is then not kept as a command either).
            self._commit_key(item, key)
            return
        if rank is None and key is not None:
            position = bisect.bisect_right(self._backlog_keys, key)
        else:
            position = len(self.backlog) if rank is None else max(0, min(rank, len(self.backlog)))
        self.backlog.insert(position, item)
        self._backlog_keys.insert(position, key)
        if not self._building:
            po = self.po
            # po.on_backlog_changed(), inlined (a hot path), and only when Ready has room.
            if po._continuous and self.ready_has_room():
                po.replenish()

    def _remove_from_backlog(self, item: Item) -> Any:
        """Take ``item`` out of the backlog; return the sort key it had there."""
        position = 0 if self.backlog[0] is item else self.backlog.index(item)
        del self.backlog[position]
        return self._backlog_keys.pop(position)

    def ready_has_room(self) -> bool:
        """Whether Ready is under its WIP limit."""
        return self.ready_wip is None or len(self.ready) < self.ready_wip

    def commit(self, item: Item) -> None:
        """Move a backlog item to Ready (no checks: see :meth:`apply`)."""
        self._commit_key(item, self._remove_from_backlog(item))

    def _commit_key(self, item: Item, key: Any) -> None:
        """Commit an item that had backlog key ``key`` (out of the backlog already)."""
        self._commit_seq += 1
        item.state = "ready"
        item.committed = self.env._now
        item.commit_seq = self._commit_seq
        rank = self._pull_rank(item, key)
        item.pull_key = (CLASS_RANK.get(item.cls, 1), rank, item.id)
        self.ready[item.id] = item
        if self.keep_records:
            self.record("committed", item.id, "ready")
        if not item.route:  # nothing to do: straight to Done
            del self.ready[item.id]
            self._finish(item)
            return
        item.queued_since = self.env._now  # self._queue(...), inlined: a hot path
        self.queued += 1
        heapq.heappush(self.pull[item.route[0]], (item.pull_key, item.id, item))
        self._dispatch()

    # ------------------------------------------------------------------
    # Commands
    # ------------------------------------------------------------------

    def apply(self, command: cmd.Command, *, automatic: bool = False) -> None:
        """Apply one PO command now; raises :class:`CommandError` when not allowed.

        This is the single path for every decision, human or strategy.  The
        commands a person gives (``automatic`` false) are kept in
        :attr:`commands`, so ``(scenario, seed, commands)`` replays the game.
        """
        handler = self._handlers.get(type(command))
        if handler is None:
            raise cmd.CommandError(f"unknown command {command!r}")
        if not automatic and isinstance(self.po, HumanPO) and self.po.book(command) is not None:
            self.commands.append((self.now, command))  # it waits for the PO's time
            return
        handler(command)
        if not automatic:
            self.commands.append((self.now, command))
        if self.keep_records:
            self.record("command", detail=cmd.describe(command))

    def forecast(self, stakeholder: str | None = None, trials: int = 1000) -> Any:
        """Monte Carlo "when" forecast (50/70/85/95) from observed throughput.

        For a stakeholder: the day their last open item is done, counting the
        items ahead of it; for ``None``: the day everything committed or in the
        backlog is done.  Uses its own random stream, never the luck's.
        """
        return self.po.forecast(stakeholder, trials)

    def _do_reorder(self, command: cmd.Reorder) -> None:
        if not self.po.human:
            raise cmd.CommandError("a strategy orders the backlog by its own key")
        item = self.item(command.item)
        if item.state != "backlog":
            raise cmd.CommandError(f"#{item.id} is not in the backlog")
        self._remove_from_backlog(item)
        rank = max(0, min(command.rank, len(self.backlog)))
        self.backlog.insert(rank, item)
        self._backlog_keys.insert(rank, None)

    def _do_commit(self, command: cmd.Commit) -> None:
        item = self.item(command.item)
        if item.state != "backlog":
            raise cmd.CommandError(f"#{item.id} is not in the backlog")
        if not self.ready_has_room() and item.cls != "expedite":
            raise cmd.CommandError(f"Ready is full (WIP limit {self.ready_wip})")
        self.commit(item)

    def _do_accept(self, command: cmd.Accept) -> None:
        item = self.item(command.item)
        if item.state != "inbox":
            raise cmd.CommandError(f"#{item.id} is not in the inbox")
        self.accept(item, command.rank)

    def accept(self, item: Item, rank: int | None = None) -> None:
        """Move an inbox item to the backlog (no checks: see :meth:`apply`)."""
        inbox = self.inbox
        if inbox[-1] is item:
            inbox.pop()
        else:
            inbox.remove(item)
        if self.keep_records:
            self.record("accepted", item.id, "backlog", stakeholder=item.requester, value=rank)
        self._to_backlog(item, rank)
        self.po.on_accepted(item)

    def _do_decline(self, command: cmd.Decline) -> None:
        item = self.item(command.item)
        if item.state != "inbox":
            raise cmd.CommandError(f"#{item.id} is not in the inbox")
        self.inbox.remove(item)
        item.state = "declined"
        item.declined = self.now
        self.record("declined", item.id, stakeholder=item.requester)
        self.po.on_declined(item)

    def _do_answer(self, command: cmd.Answer) -> None:
        item = self.item(command.item)
        if item.active_block != "question":
            raise cmd.CommandError(f"#{item.id} has no open question")
        self.questions.remove(item)
        self._unblock(item)

    def _do_report(self, command: cmd.Report) -> None:
        if command.stakeholder not in self.stakeholders:
            raise cmd.CommandError(f"no stakeholder {command.stakeholder!r}")
        if command.status not in ("on_track", "at_risk", "late"):
            raise cmd.CommandError(f"unknown status {command.status!r}")
        if not math.isfinite(command.forecast_day) or command.forecast_day < 0:
            raise cmd.CommandError("the forecast day must be a day >= 0")
        self.po.on_report(command)

    def _do_set_wip(self, command: cmd.SetWip) -> None:
        if command.limit is not None and command.limit < 1:
            raise cmd.CommandError("a WIP limit must be at least 1")
        if command.column == "ready":
            self.ready_wip = command.limit
            self.po.on_backlog_changed()
        elif command.column in self.column_index:
            self.wip[self.column_index[command.column]] = command.limit
        else:
            raise cmd.CommandError(f"no column {command.column!r}")
        self.record("wip", column=command.column, value=command.limit)
        self._dispatch()

    # ------------------------------------------------------------------
    # Team
    # ------------------------------------------------------------------

    def _add_members(
        self, member: Member, joined: float, ramp: float, start: bool = True
    ) -> list[MemberState]:
        """Add members; with ``start`` they look for work at once (else see :meth:`_start_team`)."""
        names = (
            [member.name]
            if member.count == 1
            else [f"{member.name} {n}" for n in range(1, member.count + 1)]
        )
        added = []
        for name in names:
            efficiency = [float(member.skills.get(a, 0.0)) for a in self.activities]
            state = MemberState(len(self.members), name, efficiency, joined, ramp)
            state.on_done = functools.partial(self._work_done, state)
            self.members.append(state)
            if start:
                self._member_free(state)
            added.append(state)
        return added

    def _members_named(self, name: str) -> list[MemberState]:
        exact = [m for m in self.members if m.name == name and not m.gone]
        if exact:
            return exact
        return [m for m in self.members if m.name.rsplit(" ", 1)[0] == name and not m.gone]

    def _schedule_random_absences(self) -> None:
        horizon = self.horizon
        for spec in self.scenario.team:
            if spec.absence_rate <= 0:
                continue
            draw = sampler(spec.absence_days)
            for state in self._members_named(spec.name):
                rng = self.streams.get("absences", state.name)
                day = 0
                while day < horizon:
                    if rng.random() < spec.absence_rate:
                        days = max(draw(rng), 0.1)
                        self.env.process(self._absence(state, float(day), days))
                        day += math.ceil(days)
                    day += 1

    def _scripted_event(self, event: Any) -> Generator[simpy.Event, Any, None]:
        if event.day > 0:
            yield self.env.timeout(event.day)
        if event.join is not None:
            joined = self._add_members(event.join, self.now, event.ramp_up_days, start=False)
            for state in joined:
                self.record("joined", member=state.name, value=event.ramp_up_days)
            for state in joined:
                self._member_free(state)
            self._dispatch()
        elif event.leave is not None:
            for state in self._members_named(event.leave):
                state.gone = True
                if state.waiting:
                    state.waiting = False
                    self.waiting_members -= 1
                self.record("left", member=state.name)
                self._take_away(state)
        elif event.absent is not None:
            for state in self._members_named(event.absent):
                self.env.process(self._absence(state, self.now, event.days))

    def _absence(
        self, state: MemberState, start: float, days: float
    ) -> Generator[simpy.Event, Any, None]:
        if start > self.now:
            yield self.env.timeout(start - self.now)
        if state.gone or not state.present:
            return
        self.record("absent", member=state.name, value=days)
        self._take_away(state)
        yield self.env.timeout(days)
        if state.gone:
            return
        state.present = True
        self.record("returned", member=state.name)
        if not state.waiting and state.item is None:
            self._member_free(state)
        else:
            self._dispatch()

    def _take_away(self, state: MemberState) -> None:
        """Stop a member's current work (absence or leaving); the item keeps its progress."""
        state.present = False
        item = state.item
        if item is None or state.work is None:
            return
        now = self.env.now
        column = item.column
        item.remaining[column] -= (
            state.work_between(column, state.work_start, now) * state.work_speed
        )
        item.worked += now - state.work_start
        state.work = None  # its timeout still fires, and is ignored
        state.item = None
        item.worker = None
        self.record("paused", item.id, self.activities[column], state.name)
        self._queue(self.resume[column], item)
        self._dispatch()
        self._member_free(state)

    def _start_team(self) -> None:
        """The clock's first step: every member of the starting team looks for work, in order."""
        for state in list(self.members):
            if state.item is None and not state.waiting:
                self._member_free(state)

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
        """A member starts (or resumes) work on ``item`` in its column.

        Members are not SimPy processes: the work is one timeout whose callback
        finishes it (one event per piece of work; see docs/performance.md).
        """
        env = self.env
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
        if self.keep_records:
            self.record("started", item.id, self.activities[column], state.name)
        start = env._now
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
        state.work = _Due(env, days, state.on_done)

    def _work_done(self, state: MemberState, event: simpy.Event) -> None:
        """The timeout of a member's work fired: finish the piece of work."""
        if event is not state.work:
            return  # the member was taken away meanwhile
        state.work = None
        item = state.item
        assert item is not None
        column = item.column
        item.remaining[column] -= state.work_amount
        item.worked += self.env._now - state.work_start
        state.item = None
        item.worker = None
        if state.work_strikes:
            item.pending_blocker = False
            self._block(item, "blocker")
            self.schedule(item.luck.blocker_days, functools.partial(self._unblock, item))
        else:
            self._finish_column(item)
        self._dispatch()
        self._member_free(state)

    # ------------------------------------------------------------------
    # Flow
    # ------------------------------------------------------------------

    def _queue(self, heap: list[tuple[Any, int, Item]], item: Item) -> None:
        """Queue an item for a member (it waits until someone pulls it)."""
        item.queued_since = self.env._now
        self.queued += 1
        heapq.heappush(heap, (item.pull_key, item.id, item))

    def _room(self, column: int, item: Item) -> bool:
        limit = self.wip[column]
        if limit is None:
            return True
        if item.cls == "expedite":
            return self.counts[column] < limit + 1
        return self.counts[column] < limit

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
        wip = self.wip
        counts = self.counts
        best_key: Any = None
        best_heap: list[tuple[Any, int, Item]] | None = None
        best_column = -1
        for column in state.columns:
            heap = self.resume[column]
            if heap and (best_heap is None or heap[0][0] < best_key):
                best_key, best_heap, best_column = heap[0][0], heap, column
            heap = self.pull[column]
            if heap and (best_heap is None or heap[0][0] < best_key):
                limit = wip[column]  # room in the column (see _room), inlined: a hot path
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
        item.waiting_time += self.env._now - item.queued_since
        if best_heap is self.pull[best_column]:
            self._enter(item, best_column)
            if item.pending_question:
                item.pending_question = False
                item.worker = None
                self._block(item, "question")
                self.questions.append(item)
                item.question_asked = self.now
                self.po.on_question(item)
                return self._pick(state)
        return item

    def _enter(self, item: Item, column: int) -> None:
        """Move an item into ``column`` (from Ready or from the previous column)."""
        now = self.env._now
        left = item.column
        if left >= 0:
            self.counts[left] -= 1
        else:
            del self.ready[item.id]
            item.state = "column"
            item.started = now
            po = self.po
            # Room in Ready: continuous replenishment refills it (when there is work to commit).
            if po._continuous and self.backlog:
                po.replenish()
        item.column = column
        item.route_pos += 1
        item.finished_here = False
        self.counts[column] += 1
        item.column_entered.setdefault(column, now)
        if self.keep_records:
            self.record("entered", item.id, self.activities[column])
        if left >= 0 and self.wip[left] is not None:
            # A member's own pull freed room upstream: members waiting for it pull now.
            self._dispatch()

    def _block(self, item: Item, cause: str) -> None:
        item.active_block = cause
        item.blocked_since = self.now
        self.record("blocked", item.id, self.activities[item.column], detail=cause)

    def _unblock(self, item: Item) -> None:
        cause = item.active_block or ""
        item.blocked_time[cause] = item.blocked_time.get(cause, 0.0) + self.now - item.blocked_since
        item.active_block = None
        self.record("unblocked", item.id, self.activities[item.column], detail=cause)
        self._queue(self.resume[item.column], item)
        self._dispatch()

    def _finish_column(self, item: Item) -> None:
        column = item.column
        item.finished_here = True
        if self.keep_records:
            self.record("finished", item.id, self.activities[column])
        pos = item.route_pos + 1  # item.next_column(), inlined: a hot path
        nxt = item.route[pos] if pos < len(item.route) else -1
        if nxt < 0 and not item.reworked and item.luck.defect_draw < self.defect_rate:
            item.reworked = True
            route = item.route
            last = route[-1]
            rework = route[-2] if len(route) >= 2 else last
            fraction = self._slip.rework_fraction
            item.remaining[rework] = item.luck.actual[rework] * fraction
            item.remaining[last] = item.luck.actual[last] * fraction
            route.extend([rework, last] if rework != last else [last])
            self.record("defect", item.id, self.activities[column], value=item.remaining[rework])
            nxt = item.next_column()
            if nxt == column:  # rework in the same column: no move
                item.route_pos += 1
                item.finished_here = False
                self._queue(self.resume[column], item)
                return
            # Sent back upstream at once, whatever the limit there: waiting for room
            # would deadlock a board whose upstream column is full of finished work.
            self._enter(item, nxt)
            self._queue(self.resume[nxt], item)
            return
        if nxt < 0:
            self.counts[column] -= 1
            self._finish(item)
        else:
            self._queue(self.pull[nxt], item)

    def _finish(self, item: Item) -> None:
        item.state = "done"
        item.done = self.env._now
        if item.started is None:
            item.started = self.now
        item.column = -1
        self.done_items.append(item)
        self.done_days.append(item.done)
        if item.requester is not None:
            open_items = self._open.get(item.requester)
            if open_items is not None:
                open_items.pop(item.id, None)
        if self.keep_records:
            self.record("done", item.id, "done")
        if self._effects:
            effect = self._effects.get(item.id)
            if effect is not None:
                self._apply_effect(item, effect)
        self.po.on_done(item)

    def _apply_effect(self, item: Item, effect: Any) -> None:
        """An improvement item is done: change the system as its effect says."""
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
        if effect.skill is not None:
            column = self.column_index[effect.skill.activity]
            for state in self._members_named(effect.skill.member):
                state.efficiency[column] = effect.skill.efficiency
                state.columns = [
                    c for c in range(len(state.efficiency) - 1, -1, -1) if state.efficiency[c] > 0
                ]
            parts.append(f"{effect.skill.member} can do {effect.skill.activity}")
        self.record("effect", item.id, detail="; ".join(parts))
        self._dispatch()

    # ------------------------------------------------------------------
    # Requests
    # ------------------------------------------------------------------

    def _start_requests(self, name: str) -> None:
        """Start a stakeholder's stream of requests on the clock's first step.

        A chain of timeouts whose callbacks create the requests, not a SimPy
        process (a process costs a generator resume per request).  The first
        gap is drawn on an urgent event at day 0, where a process would have
        started, so the order of events is the same as a process's.
        """
        spec = next(s for s in self.scenario.stakeholders if s.name == name).requests
        assert spec is not None
        template = self.scenario.templates[spec.template]
        stream = _RequestStream(
            name,
            spec.template,
            spec.cls,
            f"{template.title or spec.template.capitalize()} for {name} #",
            sampler(spec.every),
            self.streams.get("arrivals", name),
            spec.first,
            self.horizon if spec.until is None else min(spec.until, self.horizon),
        )
        stream.on_arrival = functools.partial(self._request_arrives, stream)
        start = simpy.Event(self.env)
        start._ok = True
        start._value = None
        start.callbacks.append(stream.on_arrival)
        self.env.schedule(start, simpy.events.URGENT)

    def _request_arrives(self, stream: _RequestStream, event: simpy.Event) -> None:
        """A request's time came (or the stream starts): create it, then wait for the next."""
        env = self.env
        request = self._request
        if stream.pending:
            request(stream)
        while True:
            stream.day += stream.gap(stream.rng)
            if stream.day >= stream.until:
                stream.pending = False
                return
            if stream.day > env._now:
                stream.pending = True
                _Due(env, stream.day - env._now, stream.on_arrival)
                return
            request(stream)

    def _request(self, stream: _RequestStream) -> None:
        stream.count += 1
        name = stream.name
        item = self._item_from_template(
            stream.template, name, name, stream.title + str(stream.count), stream.cls
        )
        item.state = "inbox"
        self.inbox.append(item)
        self.po.on_request(item)

    # ------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------

    def run_until(self, day: float) -> None:
        """Advance the clock to ``day`` (capped at the horizon)."""
        target = min(float(day), self.horizon)
        if target > self.env.now:
            # A simulation allocates many short-lived objects and few cycles:
            # collect the youngest generation far less often while it runs.
            thresholds = gc.get_threshold()
            gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
            try:
                self.env.run(until=target)
            finally:
                gc.set_threshold(*thresholds)
            # SimPy stops at now + (target - now), which can miss target by an ulp depending
            # on where the clock stood; land exactly, so a replay (which stops only at its
            # commands' days) applies every command at the very day the game did.
            self.env._now = target

    def run_through(self, day: float, stop: Callable[[], bool] | None = None) -> bool:
        """Advance the clock through ``day``: every event at or before ``day`` happens.

        Unlike :meth:`run_until`, which stops *before* the events at exactly
        ``day``, this runs each moment's events to the last, so a command
        applied afterwards comes after them (save format 2; see
        :mod:`posim.saves`).  With ``stop``, the clock stops at the first
        moment after whose events ``stop()`` is true (the game's auto-pause);
        returns whether it stopped there, before ``day``.
        """
        if self.opening is None:
            self.opening = len(self.commands)
        target = min(float(day), self.horizon)
        env = self.env
        while env.peek() <= target:
            moment = env.peek()
            while env.peek() == moment:
                env.step()
            if stop is not None and stop() and moment < target:
                return True
        if target > env.now:
            env._now = target
        return False

    def run(self) -> None:
        """Run to the horizon."""
        self.run_until(self.horizon)

    @property
    def finished(self) -> bool:
        """Whether the clock has reached the horizon."""
        return self.env.now >= self.horizon

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Call ``action`` after ``delay`` days (used by PO policies; no process needed)."""
        _Due(self.env, delay, lambda _event: action())

    def every(self, start: float, interval: float, action: Callable[[], None]) -> None:
        """Call ``action`` at ``start`` and every ``interval`` days until the horizon."""

        def ticker() -> Generator[simpy.Event, Any, None]:
            day = start
            while day < self.horizon:
                if day > self.env.now:
                    yield self.env.timeout(day - self.env.now)
                action()
                day += interval

        self.env.process(ticker())

    # ------------------------------------------------------------------
    # Results
    # ------------------------------------------------------------------

    def open_items(self, stakeholder: str) -> list[Item]:
        """The stakeholder's accepted items that are not done, oldest first."""
        return sorted(self._open.get(stakeholder, {}).values(), key=lambda item: item.id)

    def snapshot(self) -> Snapshot:
        """A read-only, frozen picture of the current state (for the UI)."""
        from posim.engine.metrics import compute_metrics

        views = {i.id: self.view(i) for i in self.items}
        columns = []
        for index, name in enumerate(self.activities):
            inside = [i for i in self.items if i.column == index and i.state == "column"]
            columns.append(
                ColumnView(
                    name,
                    self.wip[index],
                    tuple(views[i.id] for i in inside),
                    tuple(i.id for i in inside if i.finished_here),
                )
            )
        stakeholders = []
        for state in self.stakeholders.values():
            last = state.last_report
            stakeholders.append(
                StakeholderView(
                    state.name,
                    state.role,
                    state.influence,
                    state.trust,
                    state.product,
                    getattr(last, "forecast_day", None),
                    getattr(last, "status", None),
                    tuple(i.id for i in self.open_items(state.name)),
                )
            )
        return Snapshot(
            time=self.now,
            horizon=self.horizon,
            finished=self.finished,
            backlog=tuple(views[i.id] for i in self.backlog),
            ready=tuple(views[i] for i in self.ready),
            ready_wip=self.ready_wip,
            columns=tuple(columns),
            done=tuple(views[i.id] for i in self.done_items),
            inbox=tuple(views[i.id] for i in self.inbox),
            questions=tuple(views[i.id] for i in self.questions),
            members=tuple(
                MemberView(
                    m.name,
                    {
                        a: m.efficiency[c]
                        for c, a in enumerate(self.activities)
                        if m.efficiency[c] > 0
                    },
                    m.present and not m.gone,
                    m.item.id if m.item is not None else None,
                )
                for m in self.members
                if not m.gone
            ),
            stakeholders=tuple(stakeholders),
            review_due=self.review_due,
            next_review=self.next_review,
            metrics=compute_metrics(self),
        )

    def result(self) -> Any:
        """The :class:`~posim.engine.metrics.Result` of the run so far."""
        from posim.engine.metrics import build_result

        return build_result(self)


def simulate(
    scenario: Scenario,
    strategy: str | Any = "fifo",
    reporting: str = "honest",
    seed: int | None = None,
    *,
    commands: Iterable[tuple[float, cmd.Command]] | None = None,
    keep_records: bool = True,
) -> Any:
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
