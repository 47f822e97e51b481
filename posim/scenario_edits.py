"""Editing a scenario: set fields by dotted path, then validate it again as a file.

The one way posim changes a loaded scenario: ``posim sweep --set PATH=VALUES``
(:func:`posim.comparison.scenario_with`) and the career's lesson checks
(:func:`posim.career.variant`) both go through :func:`edited`.  A path walks
the scenario as its file is written: mapping keys, and list entries by their
``name`` (columns, members, stakeholders), their ``title`` (backlog items)
or their index; ``workflow`` alone is the whole field.  The edited data goes
through the same validation as a scenario file, so an edit can never produce
a scenario a file could not.

This module needs only :mod:`posim.scenario` (the bottom layer), so every
layer above may use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posim.scenario import Scenario

__all__ = ["OPEN_MAPPINGS", "EditError", "edited", "set_path"]

OPEN_MAPPINGS = frozenset({"skills", "effort", "speed"})
"""Mappings whose keys are names of the scenario's choosing (activities), so a new key is fine."""


class EditError(ValueError):
    """A path the scenario does not have: ``PATH: why; known: ...`` (one line)."""


def _step(container: Any, segment: str, where: str, path: str) -> Any:
    """The key or index addressed by ``segment`` inside ``container``."""
    if isinstance(container, dict):
        if segment in container:
            return segment
        known = ", ".join(sorted(map(str, container))) or "none"
        raise EditError(
            f"{path}: {where or 'the scenario'} has no field {segment!r}; known: {known}"
        )
    if isinstance(container, list):
        for index, entry in enumerate(container):
            if isinstance(entry, dict) and segment in (entry.get("name"), entry.get("title")):
                return index
        if segment.isdigit() and int(segment) < len(container):
            return int(segment)
        names = [
            str(entry.get("name") or entry.get("title"))
            for entry in container
            if isinstance(entry, dict) and (entry.get("name") or entry.get("title"))
        ]
        known = ", ".join(names) if names else f"indexes 0..{len(container) - 1}"
        raise EditError(f"{path}: {where} has no entry {segment!r}; known: {known}")
    raise EditError(
        f"{path}: {where} is {json.dumps(container)}, not a mapping or a list; set {where} itself"
    )


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the field at the dotted ``path`` of scenario ``data`` (as its file holds it) to ``value``.

    Raises:
        EditError: a path that does not exist.
    """
    segments = path.split(".")
    container: Any = data
    walked: list[str] = []
    for segment in segments[:-1]:
        key = _step(container, segment, ".".join(walked), path)
        container = container[key]
        walked.append(segment)
    last = segments[-1]
    if isinstance(container, dict) and walked and walked[-1] in OPEN_MAPPINGS:
        container[last] = value  # e.g. a new skill: the models check the name
    else:
        container[_step(container, last, ".".join(walked), path)] = value


def edited(scenario: Scenario, changes: Mapping[str, Any], source: str = "edited.json") -> Scenario:
    """``scenario`` with each dotted path of ``changes`` set to its value, validated again.

    ``source`` names the edited scenario in validation problems (it must end
    in ``.json``: the edited data is validated as JSON text).

    Raises:
        EditError: a path that does not exist.
        posim.scenario.ScenarioError: values the scenario models reject
            (every problem, each with its path).
    """
    from posim.scenario import parse_scenario

    data = scenario.model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        set_path(data, path, value)
    return parse_scenario(json.dumps(data), source)
