"""Prioritisation strategies, triage policies and strategy specs.

An *ordering* decides the order of the backlog and of the pull queues.  It sees
an :class:`~posim.engine.items.ItemView` (estimates, never actual effort) and
returns a sort key; lower keys go first.  The key is computed once, when the
item enters the backlog, so the hot path never re-sorts (every built-in key is
time-invariant: e.g. ``cos`` orders fixed-date items by ``due - estimate``,
which orders them exactly as slack ``due - now - estimate`` does).

A strategy spec on the command line is ``ORDERING[+REPORTING]``: ``wsjf``,
``wsjf+green``, ``my_po.py:Cautious+honest``, ``package.module:Class``.

User orderings are classes with a ``priority(item, now)`` method returning a
sort key (a number or a tuple of numbers), and optionally ``name`` and
``triage(item, inbox_view) -> bool`` (accept?).  See ``examples/cautious_po.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol, TypeGuard, cast, runtime_checkable

from posim.engine.items import ItemView

SortKey = tuple[float, ...]
"""A sort key: lower goes first."""
Key = float | tuple[float, ...]
"""What an ordering's ``priority`` returns: a number or a tuple of numbers (lower first)."""


class ItemFacts(Protocol):
    """What a built-in ordering may read of an item: facts a product owner can see.

    Both :class:`~posim.engine.items.ItemView` (what user strategies get) and the
    engine's live :class:`~posim.engine.items.Item` satisfy it, so a built-in key
    is given the live item on the hot path without building a view, and still
    cannot read its hidden luck (mypy checks every key against this protocol).
    """

    @property
    def id(self) -> int: ...
    @property
    def cls(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def cost_of_delay(self) -> float: ...
    @property
    def estimate_total(self) -> float: ...
    @property
    def influence(self) -> float: ...
    @property
    def due(self) -> float | None: ...
    @property
    def arrived(self) -> float: ...
    @property
    def tiebreak(self) -> float: ...


@runtime_checkable
class Ordering(Protocol):
    """What an ordering strategy provides."""

    @property
    def name(self) -> str:
        """The strategy's name."""
        ...

    def priority(self, item: ItemView, now: float) -> Key:
        """Sort key for ``item`` (lower first); called once when it enters the backlog."""
        ...


@dataclass(frozen=True)
class BuiltinOrdering:
    """A built-in ordering: a name, a one-line rule and its key function."""

    name: str
    """The name used on the command line."""
    rule: str
    """What it does, in one line."""
    key: Callable[[ItemFacts], SortKey]
    """The sort key (lower first); ties always fall back to the item id."""

    def priority(self, item: ItemFacts, now: float) -> SortKey:
        """Sort key for ``item`` (lower first)."""
        return self.key(item)


def _wsjf(item: ItemFacts) -> float:
    return -item.cost_of_delay / max(item.estimate_total, 1e-9)


_CLASS_ORDER = {"expedite": 0.0, "fixed_date": 1.0, "standard": 2.0, "intangible": 3.0}


def _cos(item: ItemFacts) -> SortKey:
    cls = _CLASS_ORDER.get(item.cls, 2.0)
    if item.cls == "fixed_date" and item.due is not None:
        return (cls, item.due - item.estimate_total, float(item.id))
    return (cls, _wsjf(item), float(item.id))


ORDERINGS: dict[str, BuiltinOrdering] = {
    o.name: o
    for o in (
        BuiltinOrdering("fifo", "first come, first served", lambda i: (i.arrived, float(i.id))),
        BuiltinOrdering("value", "highest value first", lambda i: (-i.value, float(i.id))),
        BuiltinOrdering(
            "shortest", "smallest estimate first", lambda i: (i.estimate_total, float(i.id))
        ),
        BuiltinOrdering(
            "wsjf",
            "cost of delay / estimated effort, highest first",
            lambda i: (_wsjf(i), float(i.id)),
        ),
        BuiltinOrdering(
            "edf",
            "earliest due day first (undated items after, first come first served)",
            lambda i: (i.due if i.due is not None else math.inf, i.arrived, float(i.id)),
        ),
        BuiltinOrdering(
            "loudest",
            "most influential requester first",
            lambda i: (-i.influence, i.arrived, float(i.id)),
        ),
        BuiltinOrdering("random", "random order", lambda i: (i.tiebreak, float(i.id))),
        BuiltinOrdering(
            "cos",
            "expedite, then fixed-date by slack, then wsjf, intangible last",
            _cos,
        ),
    )
}
"""The built-in orderings by name."""

REPORTING_POLICIES = ("honest", "optimistic", "green")
"""Built-in reporting policies (see :mod:`posim.engine.reporting`)."""


class StrategyError(ValueError):
    """A strategy spec that cannot be resolved."""


@dataclass(frozen=True)
class StrategySpec:
    """A parsed ``ORDERING[+REPORTING]`` spec."""

    ordering: str
    reporting: str

    @property
    def label(self) -> str:
        """The spec written back as text."""
        return f"{self.ordering}+{self.reporting}"


def parse_spec(spec: str, default_reporting: str = "honest") -> StrategySpec:
    """Split ``ORDERING[+REPORTING]``; raises :class:`StrategyError` for unknown names."""
    text = spec.strip()
    ordering, reporting = text, default_reporting
    if "+" in text:
        ordering, reporting = text.rsplit("+", 1)
    if not ordering:
        raise StrategyError(f"strategy {spec!r}: empty ordering")
    if reporting not in REPORTING_POLICIES:
        where = f"strategy {spec!r}" if "+" in text else "--reporting"
        raise StrategyError(
            f"{where}: unknown reporting policy {reporting!r}; "
            f"use one of {', '.join(REPORTING_POLICIES)}"
        )
    if ":" not in ordering and ordering not in ORDERINGS:
        raise StrategyError(
            f"unknown strategy {ordering!r}; use one of {', '.join(ORDERINGS)} "
            "or path/to/file.py:ClassName"
        )
    return StrategySpec(ordering, reporting)


def resolve_ordering(name: str) -> Ordering:
    """An ordering object for a built-in name or a ``file.py:Class`` / ``module:Class`` spec."""
    if name in ORDERINGS:
        return ORDERINGS[name]
    if ":" not in name:
        raise StrategyError(f"unknown strategy {name!r}; use one of {', '.join(ORDERINGS)}")
    target, _, class_name = name.rpartition(":")
    module = _load_module(target, name)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise StrategyError(f"strategy {name!r}: {target} has no class {class_name!r}")
    try:
        instance = cls()
    except Exception as error:  # a user's constructor can raise anything
        raise StrategyError(f"strategy {name!r}: {class_name}() failed: {error}") from None
    if not callable(getattr(instance, "priority", None)):
        raise StrategyError(
            f"strategy {name!r}: {class_name} has no method priority(item, now) -> sort key"
        )
    if not isinstance(getattr(instance, "name", None), str):
        try:  # noqa: SIM105 - a read-only name keeps its own value
            instance.name = name
        except AttributeError:
            pass
    return instance  # type: ignore[no-any-return]


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


def check_key(key: object, label: str) -> Key:
    """A user ordering's sort key, checked: a number or a tuple (or list) of numbers.

    Keys of other types (text, ``None``, mixed) cannot be compared with each
    other reliably, and NaN compares false with everything, silently
    scrambling the backlog; both raise :class:`StrategyError` naming the
    strategy.  A list is turned into a tuple.
    """
    if _is_number(key):
        return key
    if isinstance(key, tuple | list) and key and all(_is_number(part) for part in key):
        return tuple(cast(float, part) for part in key)
    shown = repr(key)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise StrategyError(
        f"strategy {label!r}: priority() must return a number or a tuple of numbers "
        f"(not NaN), got {shown}"
    )


def _load_module(target: str, spec: str) -> ModuleType:
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target)
        if not path.is_file():
            raise StrategyError(f"strategy {spec!r}: no such file {target}")
        module_name = f"posim_user_strategy_{zlib.crc32(str(path.resolve()).encode())}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise StrategyError(f"strategy {spec!r}: cannot import {target}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            raise StrategyError(f"strategy {spec!r}: importing {target} failed: {error}") from None
        return module
    try:
        return importlib.import_module(target)
    except Exception as error:
        raise StrategyError(f"strategy {spec!r}: cannot import module {target}: {error}") from None
