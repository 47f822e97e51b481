"""Arrivals: every item's birth, its hidden luck, and the stakeholders' request streams.

:class:`Arrivals` owns the list of items (``items``, ids from 1), the
compiled templates, the luck streams and the request streams.  An item is
born either in the starting backlog (:meth:`Arrivals.create_backlog`) or as
a stakeholder's request (handed to the ``on_request`` hook, which puts it in
the PO's inbox).

Everything random about an item is drawn when it is born, from its source's
own streams (attributes, slippage, blockers, tie-break), so the same seed
gives every strategy the same items and the same luck (common random
numbers).  Only the luck a scenario can ever use is drawn: the choice depends
on the scenario, never on the strategy.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

import simpy

from posim.engine.clock import Clock, Due
from posim.engine.distributions import Sampler, constant, sampler
from posim.engine.items import Item, ItemKind, Luck, ServiceClass
from posim.engine.randomness import Streams
from posim.engine.records import Recorder
from posim.scenario import BacklogItem, Effect, GeneratedItems, Scenario, Template

_new_tuple = tuple.__new__

SourceStreams = tuple[random.Random, random.Random, random.Random, random.Random]
"""A source's attributes, slippage, blockers and tie-break streams."""


class CompiledTemplate:
    """A template with its distributions compiled into samplers."""

    __slots__ = (
        "columns",
        "cost_of_delay",
        "cost_of_delay_fixed",
        "due_in",
        "effort",
        "template",
        "unsampled",
        "value",
        "value_fixed",
    )

    def __init__(self, template: Template, activities: list[str]) -> None:
        self.template = template
        self.value: Sampler = sampler(template.value)
        self.cost_of_delay: Sampler = sampler(template.cost_of_delay)
        self.value_fixed = constant(template.value)
        """The value when it is not random (no sampler call per item), else None."""
        self.cost_of_delay_fixed = constant(template.cost_of_delay)
        self.effort: tuple[Sampler | None, ...] = tuple(
            sampler(template.effort[a]) if a in template.effort else None for a in activities
        )
        """A sampler per column (None: the template has no work there)."""
        self.columns = tuple(c for c, s in enumerate(self.effort) if s is not None)
        """The columns with a sampler, in order."""
        self.unsampled = len(self.effort) - len(self.columns)
        self.due_in: Sampler | None = (
            sampler(template.due_in) if template.due_in is not None else None
        )


class RequestStream:
    """A stakeholder's live stream of requests (see :meth:`Arrivals.start_requests`)."""

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
        cls: ServiceClass | None,
        title: str,
        gap: Sampler,
        rng: random.Random,
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


class Arrivals:
    """Items are born here: the starting backlog and the request streams."""

    def __init__(
        self, scenario: Scenario, clock: Clock, streams: Streams, record: Recorder
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.streams = streams
        self.record = record
        self.activities = scenario.activities
        self.items: list[Item] = []
        """Every item ever born, ``items[id - 1]``."""
        self.effects: dict[int, Effect] = {}
        """Improvement items: item id -> the effect its delivery has."""
        self.on_request: Callable[[Item], None] = lambda item: None
        """Where a new request goes (the PO's inbox; set by the simulation)."""
        self._stakeholders = {s.name: s for s in scenario.stakeholders}
        slip = self._slip = scenario.slippage
        effects = [t.effect for t in scenario.templates.values() if t.effect is not None] + [
            b.effect
            for b in scenario.backlog
            if isinstance(b, BacklogItem) and b.effect is not None
        ]
        self.any_effects = bool(effects)
        """Whether any item can have an effect when done (:attr:`effects` stays empty if not)."""
        self._draw_defects = slip.defect_rate > 0 or any(e.defect_rate for e in effects)
        self._draw_blockers = slip.blocker_rate > 0 or any(e.blocker_rate for e in effects)
        self._plain_luck = not (
            slip.effort_sigma > 0
            or slip.iceberg_rate > 0
            or self._draw_defects
            or slip.question_rate > 0
            or slip.scope_rate > 0
            or self._draw_blockers
        )
        """No slippage at all: an item's luck is its estimate and a tie-break draw."""
        self._blocker_days: Sampler = sampler(slip.blocker_days)
        self._scope_fraction: Sampler = sampler(slip.scope_fraction)
        self._templates = {
            name: CompiledTemplate(t, self.activities) for name, t in scenario.templates.items()
        }
        self._luck_streams: dict[str, SourceStreams] = {}

    # ------------------------------------------------------------------
    # Items and their luck
    # ------------------------------------------------------------------

    def _source_streams(self, source: str) -> SourceStreams:
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
        self, streams: SourceStreams, estimate: tuple[float, ...]
    ) -> tuple[Luck, tuple[int, ...]]:
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
        route = tuple([i for i, e in enumerate(actual) if e > 0])
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
        kind: ItemKind,
        cls: ServiceClass,
        value: float,
        cost_of_delay: float,
        estimate: tuple[float, ...],
        requester: str | None,
        product: str | None,
        due: float | None,
        late_value_loss: float,
        streams: SourceStreams | None = None,
        route: tuple[int, ...] | None = None,
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
                route = tuple([i for i, e in enumerate(estimate) if e > 0])
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
            self.clock.now,
            route,
        )
        if requester is not None:
            item.influence = self._stakeholders[requester].influence
        items.append(item)
        if self.record.keep:
            self.record("arrived", item.id, detail=source)
        return item

    def _from_template(
        self,
        name: str,
        source: str,
        requester: str | None,
        title: str,
        cls: ServiceClass | None = None,
    ) -> Item:
        compiled = self._templates[name]
        template = compiled.template
        streams = self._luck_streams.get(source) or self._source_streams(source)
        rng = streams[0]
        value = compiled.value_fixed
        if value is None:
            value = compiled.value(rng)
        cost = compiled.cost_of_delay_fixed
        if cost is None:
            cost = compiled.cost_of_delay(rng)
        estimate = tuple([0.0 if s is None else s(rng) for s in compiled.effort])
        # Samplers never return < 0: when the zeros are just the columns without a
        # sampler, the route is every sampled column (no scan of the estimate).
        route = compiled.columns if estimate.count(0.0) == compiled.unsampled else None
        due = None
        if compiled.due_in is not None:
            due = self.clock.now + compiled.due_in(rng)
        product = template.product
        if requester is not None and product is None:
            product = self._stakeholders[requester].product
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
            self.effects[item.id] = template.effect
        return item

    def create_backlog(self, place: Callable[[Item], None]) -> None:
        """Create the starting backlog, handing each item to ``place`` in order."""
        for entry in self.scenario.backlog:
            if isinstance(entry, BacklogItem):
                estimate = tuple(float(entry.effort.get(a, 0.0)) for a in self.activities)
                product = entry.product
                if product is None and entry.requester is not None:
                    product = self._stakeholders[entry.requester].product
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
                    self.effects[item.id] = entry.effect
                place(item)
            else:
                assert isinstance(entry, GeneratedItems)
                template = self.scenario.templates[entry.template]
                prefix = template.title or entry.template.replace("_", " ").capitalize()
                for _ in range(entry.generate):
                    n = len(self.items) + 1
                    place(
                        self._from_template(
                            entry.template, "backlog", entry.requester, f"{prefix} {n}"
                        )
                    )

    # ------------------------------------------------------------------
    # Request streams
    # ------------------------------------------------------------------

    def start_requests(self, horizon: float) -> None:
        """Start every stakeholder's stream of requests on the clock's first step.

        A chain of timeouts whose callbacks create the requests, not a SimPy
        process (a process costs a generator resume per request).  The first
        gap is drawn on an urgent event at day 0, where a process would have
        started, so the order of events is the same as a process's.
        """
        for stakeholder in self.scenario.stakeholders:
            spec = stakeholder.requests
            if spec is None:
                continue
            name = stakeholder.name
            template = self.scenario.templates[spec.template]
            stream = RequestStream(
                name,
                spec.template,
                spec.cls,
                f"{template.title or spec.template.capitalize()} for {name} #",
                sampler(spec.every),
                self.streams.get("arrivals", name),
                spec.first,
                horizon if spec.until is None else min(spec.until, horizon),
            )
            stream.on_arrival = partial(self._request_arrives, stream)
            self.clock.first(stream.on_arrival)

    def _request_arrives(self, stream: RequestStream, event: simpy.Event) -> None:
        """A request's time came (or the stream starts): create it, then wait for the next.

        Each request is a new item from the stream's template, in the inbox until
        the ``on_request`` hook takes it.
        """
        clock = self.clock
        pending = stream.pending
        while True:
            if pending:
                stream.count += 1
                name = stream.name
                item = self._from_template(
                    stream.template, name, name, stream.title + str(stream.count), stream.cls
                )
                item.state = "inbox"
                self.on_request(item)
            stream.day += stream.gap(stream.rng)
            if stream.day >= stream.until:
                stream.pending = False
                return
            if stream.day > clock.now:
                stream.pending = True
                Due(clock, stream.day - clock.now, stream.on_arrival)
                return
            pending = True
