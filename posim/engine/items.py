"""Work items: what a PO can see about them, and the luck hidden inside.

An :class:`Item` is live, mutable engine state.  Everything random about it
(actual effort, defect, blocker, question, discovered scope) is drawn when it is
created and stays hidden from strategies and from the player until it shows;
strategies receive an :class:`ItemView`, which carries only what a product
owner could know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

ItemKind = Literal["feature", "defect", "chore", "request"]
ServiceClass = Literal["standard", "expedite", "fixed_date", "intangible"]
ItemState = Literal["inbox", "backlog", "ready", "column", "done", "declined"]

CLASS_RANK = {"expedite": 0, "fixed_date": 1, "standard": 1, "intangible": 1}
"""Pull precedence by class of service: expedite items go first."""


class Luck(NamedTuple):
    """The hidden draws of one item, made at creation.

    Immutable; a named tuple rather than a frozen dataclass because one is
    built per item on the hot path, and a frozen dataclass costs five times
    as much to build (see docs/performance.md).
    """

    actual: tuple[float, ...]
    """Actual effort per work column (0 where the item skips the column)."""
    defect_draw: float
    """Uniform draw: the last activity finds a defect when it is below the defect rate."""
    blocker_draw: float
    """Uniform draw: an external blocker strikes when it is below the blocker rate."""
    blocker_column: int
    """Column index where an external blocker would strike (-1: the item has no work)."""
    blocker_at: float
    """Fraction of that column's work done when the blocker strikes."""
    blocker_days: float
    """How long the blocker lasts."""
    question: bool
    """Whether starting work raises a clarification question."""
    scope_column: int
    """Column index where new scope is discovered (-1: never)."""
    scope_extra: float
    """Extra effort days discovered."""
    tiebreak: float
    """A uniform draw for strategies that break ties (or order) at random."""


class Item:
    """A live work item on the board."""

    __slots__ = (
        "active_block",
        "arrived",
        "blocked_since",
        "blocked_time",
        "cls",
        "column",
        "column_entered",
        "commit_seq",
        "committed",
        "cost_of_delay",
        "declined",
        "done",
        "due",
        "estimate",
        "estimate_total",
        "finished_here",
        "id",
        "influence",
        "kind",
        "late_value_loss",
        "luck",
        "pending_blocker",
        "pending_question",
        "pending_scope",
        "product",
        "pull_key",
        "question_asked",
        "queued_since",
        "remaining",
        "requester",
        "reworked",
        "route",
        "route_pos",
        "started",
        "state",
        "tiebreak",
        "title",
        "value",
        "waiting_time",
        "worked",
        "worker",
    )

    def __init__(
        self,
        item_id: int,
        title: str,
        kind: ItemKind,
        cls: ServiceClass,
        value: float,
        cost_of_delay: float,
        estimate: tuple[float, ...],
        luck: Luck,
        requester: str | None = None,
        product: str | None = None,
        due: float | None = None,
        late_value_loss: float = 0.5,
        arrived: float = 0.0,
        route: tuple[int, ...] | None = None,
    ) -> None:
        """Build an item; ``route`` (the columns with work, in order) is derived
        from ``luck.actual`` unless the caller already has it."""
        self.id = item_id
        self.title = title
        self.kind = kind
        self.cls = cls
        self.value = value
        self.cost_of_delay = cost_of_delay
        self.estimate = estimate
        self.estimate_total = sum(estimate)
        self.luck = luck
        self.tiebreak = luck.tiebreak
        self.influence = 0.0
        self.requester = requester
        self.product = product
        self.due = due
        self.late_value_loss = late_value_loss
        self.arrived = arrived
        self.state: ItemState = "inbox"
        self.route: tuple[int, ...] = (
            tuple([i for i, effort in enumerate(luck.actual) if effort > 0])
            if route is None
            else route
        )
        """The columns with work, in order (a rework adds the columns it goes back to)."""
        self.remaining: list[float] = list(luck.actual)
        self.route_pos = -1
        self.column = -1
        self.finished_here = False
        self.worker: str | None = None
        self.commit_seq = 0
        self.pull_key: tuple[int, float | tuple[float, ...], int] = (1, 0.0, 0)
        """(class-of-service rank, the product owner's rank, id): lower is pulled first."""
        self.committed: float | None = None
        self.started: float | None = None
        self.done: float | None = None
        self.declined: float | None = None
        self.column_entered: dict[int, float] = {}
        self.worked = 0.0
        self.queued_since = 0.0
        self.waiting_time = 0.0
        self.blocked_time: dict[str, float] = {}
        self.active_block: str | None = None
        self.blocked_since = 0.0
        self.pending_blocker = luck.blocker_column >= 0
        self.pending_question = luck.question
        self.pending_scope = luck.scope_column >= 0
        self.question_asked: float | None = None
        self.reworked = False

    def next_column(self) -> int:
        """The column the item goes to next (-1: it is finished)."""
        pos = self.route_pos + 1
        return self.route[pos] if pos < len(self.route) else -1

    def view(self, activities: list[str]) -> ItemView:
        """What a product owner can see of this item (``activities``: the column names)."""
        return ItemView(
            id=self.id,
            title=self.title,
            kind=self.kind,
            cls=self.cls,
            value=self.value,
            cost_of_delay=self.cost_of_delay,
            estimate=self.estimate,
            estimate_total=self.estimate_total,
            requester=self.requester,
            influence=self.influence,
            product=self.product,
            due=self.due,
            arrived=self.arrived,
            tiebreak=self.tiebreak,
            state=self.state,
            column=activities[self.column] if self.column >= 0 else None,
            blocked=self.active_block,
            started=self.started,
            done=self.done,
            committed=self.committed,
        )

    def delivered_value(self) -> float:
        """Value realised by a done item (fixed-date items lose value when late)."""
        if self.done is None:
            return 0.0
        if self.due is not None and self.done > self.due:
            return self.value * (1.0 - self.late_value_loss)
        return self.value


@dataclass(frozen=True, slots=True)
class ItemView:
    """What a product owner can see about an item: estimates, never actual effort."""

    id: int
    title: str
    kind: str
    cls: str
    value: float
    cost_of_delay: float
    estimate: tuple[float, ...]
    """Estimated effort per column (original estimate, not actual)."""
    estimate_total: float
    requester: str | None
    influence: float
    """Influence of the requester (0 for none)."""
    product: str | None
    due: float | None
    arrived: float
    tiebreak: float
    """A random number drawn for this item from the tie-break stream."""
    state: str
    column: str | None
    blocked: str | None
    """Cause of an active block (blocker, question) or None."""
    started: float | None
    done: float | None
    committed: float | None
