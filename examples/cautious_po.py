"""A user-written prioritisation strategy for posim: the cautious product owner.

Load it on the command line by file and class name, optionally with a
reporting policy::

    posim compare tutorial --strategy fifo --strategy examples/cautious_po.py:Cautious
    posim run tutorial --strategy examples/cautious_po.py:Cautious+optimistic

or, when the file is importable as a module, as ``cautious_po:Cautious``.

The protocol (see :mod:`posim.engine.strategies`):

* a class that posim can create with no arguments;
* ``name`` (optional): a label for the strategy;
* ``priority(item, now)`` (required): the item's sort key — a number or a
  tuple of numbers, lower goes first.  posim calls it once, when the item
  enters the backlog, and orders both the backlog and what the team pulls
  next by it (ties fall back to the item id);
* ``triage(item, inbox_view)`` (optional): ``True`` to accept a stakeholder
  request into the backlog, ``False`` to decline it.  ``inbox_view`` is the
  board as the PO sees it (a :class:`posim.engine.Snapshot`).

``item`` is a :class:`posim.engine.items.ItemView`: what a product owner can
see (value, cost of delay per day, estimates, class of service, requester and
their influence, due day) — never the actual effort the luck will bring.
A strategy must be deterministic in what it sees: posim compares strategies
on common random numbers, and a strategy that draws its own random numbers
would break the pairing.
"""

from __future__ import annotations

from typing import Any

CLASS_RANK = {"expedite": 0, "fixed_date": 1, "standard": 2, "intangible": 3}
"""Expedite first, then fixed-date work, then the rest."""


class Cautious:
    """WSJF that distrusts big estimates, and a backlog it keeps short.

    Big items slip more in absolute days (effort noise is multiplicative), so
    the cautious PO divides cost of delay by the estimate *plus a safety
    margin that grows with it* and declines low-value requests once the
    backlog is long.
    """

    name = "cautious"
    """The label posim shows when the strategy is passed as an object."""

    margin_per_day = 0.25
    """Extra days of caution per estimated day of work."""

    backlog_limit = 8
    """With this many items in the backlog, only valuable requests get in."""

    value_per_day_bar = 150.0
    """A request is valuable when its value per estimated day is at least this."""

    def priority(self, item: Any, now: float) -> tuple[float, float, float]:
        """Class of service first, then cost of delay per cautious day of effort."""
        estimate = max(item.estimate_total, 1e-9)
        cautious_days = estimate * (1.0 + self.margin_per_day * estimate)
        return (float(CLASS_RANK.get(item.cls, 2)), -item.cost_of_delay / cautious_days, item.id)

    def triage(self, item: Any, inbox_view: Any) -> bool:
        """Accept every request while the backlog is short, then only valuable ones."""
        if len(inbox_view.backlog) < self.backlog_limit:
            return True
        return item.value / max(item.estimate_total, 1e-9) >= self.value_per_day_bar
