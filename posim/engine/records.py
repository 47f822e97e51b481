"""Flat, frozen result records with a ``kind`` field, ready for a table.

Every state change of the simulation is one :class:`Record`.  The kinds:

``arrived``       an item entered the system (backlog at day 0, or a request)
``accepted``      a request joined the backlog (``value`` = rank)
``declined``      the PO declined a request
``committed``     an item moved from the backlog to Ready
``entered``       an item entered a work column
``started``       a member started (or resumed) work on an item in a column
``paused``        work stopped before the column's work was finished
``finished``      an item's work in a column is finished
``defect``        the last activity found a defect; the item goes back for rework
``scope``         new scope was discovered (``value`` = extra effort days)
``blocked``       an item was blocked (``detail`` = blocker | question)
``unblocked``     a block ended (``detail`` = cause)
``done``          an item reached Done
``absent``        a member became absent (``value`` = days)
``returned``      a member came back
``left``          a member left the team
``joined``        a member joined the team
``wip``           a WIP limit changed (``value`` = limit, None = unlimited)
``sprint``        a sprint started (``value`` = sprint number)
``replenish``     a kanban replenishment meeting
``review``        a status review is due
``report``        the PO reported status (``detail`` = status, ``value`` = forecast day)
``trust``         a stakeholder's trust changed (``value`` = delta, ``detail`` = cause)
``effect``        an improvement item changed the system (``detail`` says how)
``escalation``    a stakeholder's trust fell below the escalation threshold
``expired``       a request waited in the inbox past the stakeholder's patience
``command``       a PO command was applied (``detail`` = the command)
``waiting``       a person's command waits for the PO's time (``value`` = the day it
                  takes effect, ``detail`` = the command; see :class:`~posim.engine.po.HumanPO`)
``dropped``       a waiting command could no longer be applied (``detail`` says why)
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class Record(NamedTuple):
    """One state change.  Unused fields are ``None`` (or ``""`` for detail)."""

    time: float
    """Simulated day."""
    kind: str
    """What happened (see the module docstring)."""
    item: int | None = None
    """Item id, if an item is involved."""
    column: str | None = None
    """Column (activity) name, ``ready``, ``backlog`` or ``done``."""
    member: str | None = None
    """Team member involved."""
    stakeholder: str | None = None
    """Stakeholder involved."""
    value: float | None = None
    """A number whose meaning depends on ``kind``."""
    detail: str = ""
    """Free text whose meaning depends on ``kind``."""


_new_tuple = tuple.__new__

RECORD_FIELDS = Record._fields
"""Column names of a record table."""


class _Clock(Protocol):
    now: float


class Recorder:
    """The observer that writes records: the rules call it, and it keeps the records
    only when asked to (``keep``); whether it keeps them changes nothing else."""

    __slots__ = ("clock", "keep", "records")

    def __init__(self, clock: _Clock, keep: bool) -> None:
        self.clock = clock
        self.keep = keep
        """Whether records are kept (hot paths test this before building a record)."""
        self.records: list[Record] = []

    def __call__(
        self,
        kind: str,
        item: int | None = None,
        column: str | None = None,
        member: str | None = None,
        stakeholder: str | None = None,
        value: float | None = None,
        detail: str = "",
    ) -> None:
        """Append a record at the current day (when records are kept)."""
        if self.keep:
            # Record(...) without the named tuple's Python-level __new__: half the cost
            # of a record, ten of which an item makes on its way to Done.
            self.records.append(
                _new_tuple(
                    Record, (self.clock.now, kind, item, column, member, stakeholder, value, detail)
                )
            )
