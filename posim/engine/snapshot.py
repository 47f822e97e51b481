"""Snapshots: read-only, frozen pictures of a running simulation (for the UI).

A :class:`Snapshot` is everything the game shows: the board, the team, the
stakeholders, the inbox and the questions, the reviews due, every item's
history and the metrics so far (computed by
:func:`~posim.engine.metrics.compute_metrics`, the one function that also
gives a result's metrics, so at the horizon the two agree).  Building one
reads the parts and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from posim.engine.board import Board
from posim.engine.books import Books
from posim.engine.cadence import Cadence
from posim.engine.items import ItemView
from posim.engine.metrics import compute_metrics
from posim.engine.records import Record
from posim.engine.team import Team


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
    trust_history: tuple[tuple[float, float, str], ...] = ()
    """``(day, trust after, cause)``: the start, then every change so far."""


class ItemHistories(Mapping[int, tuple[Record, ...]]):
    """Item id -> its records up to the snapshot's moment (empty when records are off)."""

    __slots__ = ("_index", "_lengths")

    def __init__(self, index: Mapping[int, list[Record]]) -> None:
        self._index = index
        self._lengths = {item: len(records) for item, records in index.items()}

    def __getitem__(self, item_id: int) -> tuple[Record, ...]:
        length = self._lengths.get(item_id)
        if length is None:
            return ()
        return tuple(self._index[item_id][:length])

    def __iter__(self) -> Iterator[int]:
        return iter(self._lengths)

    def __len__(self) -> int:
        return len(self._lengths)


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
    reviews_due: dict[str, float] | None = None
    """Stakeholder -> day of the review still waiting for a report."""
    histories: Mapping[int, tuple[Record, ...]] | None = None
    """Item id -> its records so far, oldest first (empty when records are off)."""

    def history(self, item_id: int) -> tuple[Record, ...]:
        """The records of item ``item_id`` so far, oldest first."""
        return () if self.histories is None else self.histories.get(item_id, ())


def build_snapshot(
    *,
    now: float,
    horizon: float,
    finished: bool,
    board: Board,
    books: Books,
    team: Team,
    cadence: Cadence,
    by_item: Mapping[int, list[Record]],
) -> Snapshot:
    """The snapshot of the parts at ``now``."""
    activities = board.activities
    items = books.items
    views = {i.id: i.view(activities) for i in items}
    columns = []
    for index, name in enumerate(activities):
        inside = [i for i in items if i.column == index and i.state == "column"]
        columns.append(
            ColumnView(
                name,
                board.wip[index],
                tuple(views[i.id] for i in inside),
                tuple(i.id for i in inside if i.finished_here),
            )
        )
    stakeholders = []
    for state in books.stakeholders.values():
        last = state.last_report
        stakeholders.append(
            StakeholderView(
                state.name,
                state.role,
                state.influence,
                state.trust,
                state.product,
                None if last is None else last.forecast_day,
                None if last is None else last.status,
                tuple(i.id for i in books.open_items(state.name)),
                tuple(state.trust_history),
            )
        )
    return Snapshot(
        time=now,
        horizon=horizon,
        finished=finished,
        backlog=tuple(views[i.id] for i in board.backlog),
        ready=tuple(views[i] for i in board.ready),
        ready_wip=board.ready_wip,
        columns=tuple(columns),
        done=tuple(views[i.id] for i in board.done_items),
        inbox=tuple(views[i.id] for i in books.inbox),
        questions=tuple(views[i.id] for i in board.questions),
        members=tuple(
            MemberView(
                m.name,
                {a: m.efficiency[c] for c, a in enumerate(activities) if m.efficiency[c] > 0},
                m.present and not m.gone,
                m.item.id if m.item is not None else None,
            )
            for m in team.members
            if not m.gone
        ),
        stakeholders=tuple(stakeholders),
        review_due=books.review_due,
        next_review=cadence.next_review,
        metrics=compute_metrics(books, now, horizon),
        reviews_due=dict(books.reviews_due),
        histories=ItemHistories(by_item),
    )
