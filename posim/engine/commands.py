"""Product-owner commands: every decision a PO can make.

Humans (the game) and strategies issue the same commands through
:meth:`posim.engine.simulation.Simulation.apply`, so a game is fully described
by ``(scenario, seed, [(time, command), ...])`` and replays exactly.
Commands are frozen values with a stable JSON form (:func:`to_json`,
:func:`from_json`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

Status = Literal["on_track", "at_risk", "late"]
"""A status a PO can report."""


class CommandError(ValueError):
    """A command that cannot be applied in the current state."""


@dataclass(frozen=True, slots=True)
class Reorder:
    """Move a backlog item to position ``rank`` (0 = top)."""

    item: int
    rank: int


@dataclass(frozen=True, slots=True)
class Commit:
    """Commit a backlog item to Ready (WIP limit of Ready permitting)."""

    item: int


@dataclass(frozen=True, slots=True)
class Accept:
    """Accept a request from the inbox into the backlog at ``rank`` (None = bottom)."""

    item: int
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class Decline:
    """Decline a request from the inbox."""

    item: int


@dataclass(frozen=True, slots=True)
class Answer:
    """Answer the clarification question that blocks an item."""

    item: int


@dataclass(frozen=True, slots=True)
class Report:
    """Report a status and a forecast day to a stakeholder."""

    stakeholder: str
    status: Status
    forecast_day: float


@dataclass(frozen=True, slots=True)
class SetWip:
    """Change the WIP limit of a column (``ready`` or an activity); None = unlimited."""

    column: str
    limit: int | None


Command = Reorder | Commit | Accept | Decline | Answer | Report | SetWip
"""Any PO command."""

COMMAND_TYPES: dict[str, type[Any]] = {
    "reorder": Reorder,
    "commit": Commit,
    "accept": Accept,
    "decline": Decline,
    "answer": Answer,
    "report": Report,
    "set_wip": SetWip,
}
"""Command name -> class (the ``type`` of the JSON form)."""
_NAMES = {cls: name for name, cls in COMMAND_TYPES.items()}


def command_name(command: Command) -> str:
    """The JSON ``type`` of a command."""
    return _NAMES[type(command)]


def to_json(command: Command) -> dict[str, Any]:
    """A command as a JSON-ready dict with a ``type`` key."""
    return {"type": command_name(command), **asdict(command)}


def from_json(data: object) -> Command:
    """Build a command from :func:`to_json`'s form; raises :class:`CommandError`."""
    if not isinstance(data, dict) or data.get("type") not in COMMAND_TYPES:
        raise CommandError(f"not a command: {data!r}")
    cls = COMMAND_TYPES[data["type"]]
    names = {f.name for f in fields(cls)}
    args = {k: v for k, v in data.items() if k != "type"}
    if set(args) - names:
        raise CommandError(f"unknown fields for {data['type']}: {sorted(set(args) - names)}")
    try:
        command: Command = cls(**args)
    except TypeError as error:
        raise CommandError(f"bad {data['type']} command: {error}") from None
    return command


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def describe_accept(item: int) -> str:
    """``describe(Accept(item))``: a strategy's accept, recorded once per request."""
    return f"accept(item={item}, rank=None)"


def describe_commit(item: int) -> str:
    """``describe(Commit(item))``: an automatic commit, recorded once per item."""
    return f"commit(item={item})"


def describe(command: Command) -> str:
    """A short human-readable form, used in records and logs.

    ``Accept(item=4, rank=None)``: every field by name (read directly, not
    through ``asdict``, which deep-copies: a record per automatic decision
    made it the largest cost of keeping records).
    """
    cls = type(command)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(command))
    args = ", ".join([f"{name}={getattr(command, name)}" for name in names])
    return f"{command_name(command)}({args})"


def plain(command: Command) -> str:
    """A command as a player says it: ``accept #12``, ``answer #5``, ``report to Sales``."""
    if isinstance(command, Accept):
        where = "the bottom" if command.rank is None else f"rank {command.rank + 1}"
        return f"accept #{command.item} at {where}"
    if isinstance(command, Decline):
        return f"decline #{command.item}"
    if isinstance(command, Answer):
        return f"answer #{command.item}'s question"
    if isinstance(command, Report):
        status = command.status.replace("_", " ")
        return f"report to {command.stakeholder} ({status}, day {command.forecast_day:g})"
    if isinstance(command, Reorder):
        return f"move #{command.item} to rank {command.rank + 1}"
    if isinstance(command, Commit):
        return f"commit #{command.item}"
    if isinstance(command, SetWip):
        return f"WIP limit of {command.column}: {command.limit or 'none'}"
    return describe(command)  # pragma: no cover - every command is listed above
