"""The product owner's decisions: a strategy's, or a person's.

The simulation asks the product owner at decision points: where an item goes
in the backlog (``priority``) and in the pull queues (``pull_rank``), a
request arrived (``on_request``), a question was asked (``on_question``), a
review is due (``on_review_due``).  Two policies answer:

* :class:`StrategyPO` — a scripted PO: an ordering (``wsjf``…), a triage
  policy from the scenario (``product_owner.triage``), a response time for
  questions limited by the PO's daily attention budget, and a reporting policy
  (``honest``, ``optimistic``, ``green``; see :mod:`posim.engine.reporting`).
* :class:`HumanPO` — a person in the game: every decision arrives as a command
  through :meth:`Simulation.apply`, so every hook does nothing.

A product owner decides and writes nothing of the simulation's: it acts
through the :class:`Desk` (the simulation's commands and the PO's booked
attention), where the books are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from posim.engine import commands as cmd
from posim.engine.items import Item, ItemView
from posim.engine.reporting import Suggestion
from posim.engine.snapshot import Snapshot
from posim.engine.strategies import (
    BuiltinOrdering,
    Key,
    Ordering,
    SortKey,
    StrategyError,
    StrategySpec,
    check_key,
    parse_spec,
    resolve_ordering,
)
from posim.scenario import Scenario


class Desk(Protocol):
    """What a product owner can do and see: the simulation, as the PO's desk."""

    @property
    def now(self) -> float:
        """The current day."""
        ...

    def apply(self, command: cmd.Command, *, automatic: bool = False) -> None:
        """Apply a command (raises :class:`~posim.engine.commands.CommandError`)."""
        ...

    def accept_automatic(self, item: Item) -> None:
        """Accept an inbox item at the ordering's place (a strategy's own decision)."""
        ...

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Call ``action`` after ``delay`` days."""
        ...

    def attention(self, hours: float, earliest: float) -> float:
        """Book PO attention; return when it is done."""
        ...

    def suggested_report(
        self, stakeholder: str, policy: str, *, with_forecast: bool = True
    ) -> Suggestion:
        """What reporting ``policy`` would tell ``stakeholder`` now."""
        ...

    def view(self, item: Item) -> ItemView:
        """What a PO can see of ``item``."""
        ...

    def snapshot(self) -> Snapshot:
        """A read-only picture of the simulation."""
        ...

    def backlog_size(self) -> int:
        """How many items are in the backlog."""
        ...


class ProductOwner:
    """What every product owner answers; this base answers like a person (nothing)."""

    human = False
    """Whether decisions come from a person (the game)."""
    label = "human"
    """The strategy spec, e.g. ``wsjf+honest``; ``human`` for a person."""
    reporting = "human"
    """The reporting policy name."""
    accepts_at_once = False
    """Whether every request is accepted the moment it arrives, without a triage to
    wait for (the simulation then hands it to the accept rule without the inbox)."""

    def priority(self, item: Item) -> Key | None:
        """Backlog sort key for an arriving item (None: a person places it)."""
        return None

    @property
    def priority_function(self) -> Callable[[Item], Key | None]:
        """What computes :meth:`priority` (the board calls it once per item)."""
        return self.priority

    def pull_rank(self, item: Item, backlog_key: Key | None) -> Key:
        """Rank of a committed item in the pull queues (lower first).

        The board asks only for an item without a backlog key (a person placed it):
        an item with one is pulled in its key's order.
        """
        return (float(item.commit_seq),)

    def on_request(self, item: Item) -> None:
        """A request landed in the inbox."""

    def on_question(self, item: Item) -> None:
        """An item is blocked by a clarification question."""

    def on_review_due(self, name: str) -> None:
        """A review with ``name`` is due (a strategy reports; a person is asked)."""


ProductOwnerPolicy = ProductOwner
"""The former name of :class:`ProductOwner`."""


class HumanPO(ProductOwner):
    """A person plays the PO: the engine waits for their commands."""

    human = True


class StrategyPO(ProductOwner):
    """A scripted PO: ordering + triage + response time + reporting policy."""

    def __init__(
        self,
        desk: Desk,
        scenario: Scenario,
        strategy: str | Ordering,
        reporting: str = "honest",
    ) -> None:
        self.desk = desk
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
        po = scenario.product_owner
        self.budget = po.daily_budget
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
        self.accepts_at_once = self._accept_all and not self.budget
        # A built-in key reads only what an ItemView shows (the ItemFacts protocol),
        # and Item shows the same fields: it is given the item, no view is built.
        self._fast_key: Callable[[Item], SortKey] | None = (
            self.ordering.key if isinstance(self.ordering, BuiltinOrdering) else None
        )

    @property
    def priority_function(self) -> Callable[[Item], Key | None]:
        """A built-in ordering's key itself (one call less per item), else :meth:`priority`."""
        return self._fast_key if self._fast_key is not None else self.priority

    def priority(self, item: Item) -> Key:
        """The ordering's key (computed once, when the item enters the backlog)."""
        if self._fast_key is not None:
            return self._fast_key(item)
        desk = self.desk
        key: Key = check_key(
            self._user_call("priority", self.ordering.priority, desk.view(item), desk.now),
            self.label,
        )
        return key

    def _user_call(self, method: str, function: Callable[..., Any], *args: Any) -> Any:
        """Call a user strategy's method; its failure becomes a one-line StrategyError."""
        try:
            return function(*args)
        except Exception as error:
            raise StrategyError(
                f"strategy {self.label!r}: {method}() raised {type(error).__name__}: {error}"
            ) from None

    def pull_rank(self, item: Item, backlog_key: Key | None) -> Key:
        """Committed items are pulled in the ordering's order too (the backlog key)."""
        if backlog_key is None:
            return self.priority(item)
        return backlog_key

    def on_request(self, item: Item) -> None:
        """Triage at once, or when the PO's attention allows (a PO that
        ``accepts_at_once`` is not asked: the simulation accepts for it)."""
        desk = self.desk
        if self.budget:
            now = desk.now
            when = desk.attention(self.triage_hours, now)
            if when <= now:
                self._triage(item)
            else:
                desk.schedule(when - now, lambda: self._triage(item))
        else:
            self._triage(item)

    def _triage(self, item: Item) -> None:
        if item.state != "inbox":
            return
        if self._accept_all or self._accepts(item):
            self.desk.accept_automatic(item)
        else:
            self.desk.apply(cmd.Decline(item.id), automatic=True)

    def _accepts(self, item: Item) -> bool:
        if self._triage_hook is not None:
            desk = self.desk
            accept = self._user_call("triage", self._triage_hook, desk.view(item), desk.snapshot())
            return bool(accept)
        if self.triage_policy == "value_bar":
            return item.value / max(item.estimate_total, 1e-9) >= self.value_bar
        if self.triage_policy == "cap_backlog":
            return self.desk.backlog_size() < self.backlog_cap
        return True

    def on_question(self, item: Item) -> None:
        """Answer after the response time, when the PO's attention allows."""
        desk = self.desk
        now = desk.now
        when = desk.attention(self.answer_hours, now + self.response_days)
        desk.schedule(when - now, lambda: self._answer(item))

    def _answer(self, item: Item) -> None:
        if item.active_block == "question":
            self.desk.apply(cmd.Answer(item.id), automatic=True)

    def on_review_due(self, name: str) -> None:
        """Report to the stakeholder with the reporting policy."""
        desk = self.desk
        desk.attention(self.review_hours, desk.now)
        suggestion = desk.suggested_report(name, self.reporting, with_forecast=False)
        desk.apply(cmd.Report(name, suggestion.status, suggestion.forecast_day), automatic=True)
