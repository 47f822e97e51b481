"""Friendly errors: pydantic's validation errors as ``file:line: path: message``.

:class:`Problem` is one line of a report and :class:`ScenarioError` all of
them.  :func:`_validation_problems` turns each pydantic error into plain
words (choosing, in a union, the branch the user meant), and
:func:`_cross_checks_despite` finds the cross-reference problems that field
errors would otherwise hide.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from posim.scenario.models import (
    FORMAT_VERSION,
    CrossCheckError,
    PathTuple,
    Scenario,
    _show,
)
from posim.scenario.reader import printable

# --------------------------------------------------------------------------
# Problems and errors
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, with where it is."""

    file: str
    """The file name as given (or ``<string>``)."""
    line: int | None
    """1-based line of the offending key or value; ``None`` when unknown."""
    path: str
    """Dotted path of the offending field (``workflow.1.wip``); ``""`` for the whole file."""
    message: str
    """What is wrong, in plain words."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return printable(text)


class ScenarioError(Exception):
    """A scenario could not be loaded; ``problems`` lists every reason, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        """Every problem found, in file order."""
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


# --------------------------------------------------------------------------
# Turning validation errors into problems
# --------------------------------------------------------------------------

_SCALAR_BRANCHES = frozenset({"float", "int", "str", "bool", "none", "literal"})
_DIST_NAMES = (
    "constant",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "exponential",
    "weibull",
    "empirical",
)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _is_branch_label(segment: str | int) -> bool:
    return isinstance(segment, str) and (
        "[" in segment
        or segment in _SCALAR_BRANCHES
        or segment in _DIST_NAMES
        or segment in ("BacklogItem", "GeneratedItems")
    )


def _split_loc(
    loc: tuple[Any, ...], data: Any, kind: str
) -> tuple[PathTuple, PathTuple | None, str]:
    """The data path of an error, the path of the union it failed in, and the branch."""
    path: list[str | int] = []
    current: Any = data
    union_at: PathTuple | None = None
    branch = ""
    for position, segment in enumerate(loc):
        last = position == len(loc) - 1
        if (isinstance(current, dict) and segment in current) or (
            isinstance(current, list)
            and isinstance(segment, int)
            and not isinstance(segment, bool)
            and 0 <= segment < len(current)
        ):
            path.append(segment)
            current = current[segment]
        elif _is_branch_label(segment) and not (last and kind == "missing"):
            if union_at is None:
                union_at, branch = tuple(path), str(segment)
            elif branch.startswith("tagged-union"):
                branch = str(segment)
        else:
            path.append(segment)
            current = None
    return tuple(path), union_at, branch


def _value_at(data: Any, path: PathTuple) -> Any:
    for segment in path:
        if isinstance(data, dict) and segment in data:  # noqa: SIM114 (keeps mypy narrowing)
            data = data[segment]
        elif isinstance(data, list) and isinstance(segment, int) and 0 <= segment < len(data):
            data = data[segment]
        else:
            return None
    return data


def _model_candidates(annotation: Any) -> list[Any]:
    """Model classes reachable from a field annotation without consuming a path segment."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_candidates(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (Union, UnionType):
        found: list[Any] = []
        for arg in get_args(annotation):
            found.extend(_model_candidates(arg))
        return found
    return []


def _container_item(annotation: Any) -> Any:
    """The element annotation of a list or dict annotation (or ``None``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _container_item(get_args(annotation)[0])
    if origin is list:
        return get_args(annotation)[0]
    if origin is dict:
        return get_args(annotation)[1]
    if origin in (Union, UnionType):
        for arg in get_args(annotation):
            item = _container_item(arg)
            if item is not None:
                return item
    return None


def _field_names(model: Any) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _pick_model(candidates: list[Any], value: Any) -> Any:
    if not candidates:
        return None
    if not isinstance(value, dict):
        return candidates[0]
    if "dist" in value:
        for candidate in candidates:
            field = candidate.model_fields.get("dist")
            if field is not None and get_args(field.annotation) == (value["dist"],):
                return candidate
    return min(candidates, key=lambda c: len(set(value) - set(_field_names(c))))


def _model_at(data: Any, path: PathTuple) -> Any:
    """The model class that describes the mapping at ``path`` (best guess for unions)."""
    model: Any = Scenario
    annotation: Any = None
    for depth, segment in enumerate(path):
        if model is not None:
            field = next(
                (
                    info
                    for name, info in model.model_fields.items()
                    if (info.alias or name) == segment
                ),
                None,
            )
            if field is None:
                return None
            annotation, model = field.annotation, None
        else:
            annotation = _container_item(annotation)
            if annotation is None:
                return None
        candidates = _model_candidates(annotation)
        if candidates:
            model = _pick_model(candidates, _value_at(data, path[: depth + 1]))
    return model


def _friendly(error: Any, path: PathTuple, data: Any) -> tuple[PathTuple, str]:
    """The path and a plain-words message for one pydantic error."""
    kind = str(error["type"])
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return path[:-1], f"missing required field {path[-1]!r}"
    if kind == "extra_forbidden":
        message = f"unknown field {path[-1]!r}"
        model = _model_at(data, path[:-1])
        if model is not None:
            allowed = _field_names(model)
            close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            elif len(allowed) <= 12:
                message += f"; allowed: {', '.join(allowed)}"
        return path, message
    if kind == "union_tag_invalid":
        return path, f"unknown distribution {ctx.get('tag')!r}; use one of {', '.join(_DIST_NAMES)}"
    if kind == "union_tag_not_found":
        return path, f"a distribution needs 'dist': one of {', '.join(_DIST_NAMES)}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing"):
        if isinstance(value, float) and kind.startswith("int"):
            return path, f"must be a whole number (got {_show(value)})"
        noun = "a whole number" if kind.startswith("int") else "a number"
        return path, f"expected {noun}, got {_describe(value)}"
    if kind in ("int_from_float",):
        return path, f"must be a whole number (got {_show(value)})"
    if kind in ("string_type", "bool_type", "list_type", "dict_type"):
        nouns = {"string_type": "text", "bool_type": "true or false", "list_type": "a list"}
        return path, f"expected {nouns.get(kind, 'a mapping')}, got {_describe(value)}"
    if kind in ("model_type", "model_attributes_type"):
        return path, f"expected a mapping, got {_describe(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {
            "greater_than": ">",
            "greater_than_equal": ">=",
            "less_than": "<",
            "less_than_equal": "<=",
        }
        bound = next(iter(ctx.values()))
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return path, f"must be {op[kind]} {bound} (got {_show(value)})"
    if kind == "literal_error" and path == ("posim",):
        return path, f"unsupported format version {_show(value)}; this posim reads {FORMAT_VERSION}"
    if kind == "literal_error":
        return path, f"must be {ctx.get('expected')} (got {_show(value)})"
    if kind in ("too_short", "too_long"):
        return path, (
            f"needs at least {ctx.get('min_length')} "
            f"{'entry' if ctx.get('min_length') == 1 else 'entries'}"
            if kind == "too_short"
            else f"at most {ctx.get('max_length')} entries (got {ctx.get('actual_length')})"
        )
    if kind == "string_too_short":
        return path, "must not be empty"
    if kind == "string_too_long":
        return path, f"at most {ctx.get('max_length')} characters"
    if kind == "invalid_key":
        return path, f"keys here must be text, got {_describe(path[-1])}"
    if kind == "finite_number":
        return path, "must be a finite number"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return path, str(ctx["error"])
    return path, str(error.get("msg", kind))


def _union_choice(
    errors: list[tuple[PathTuple, PathTuple | None, str, Any]], data: Any
) -> set[int]:
    """Indexes of the errors to keep: for each failed union, the branch the user meant."""
    groups: dict[PathTuple, dict[str, list[int]]] = {}
    for index, (_, union_at, branch, _error) in enumerate(errors):
        if union_at is not None:
            groups.setdefault(union_at, {}).setdefault(branch, []).append(index)
    keep = {index for index, error in enumerate(errors) if error[1] is None}
    for union_at, branches in groups.items():
        value = _value_at(data, union_at)
        if isinstance(value, dict):
            models = {b: ix for b, ix in branches.items() if b not in _SCALAR_BRANCHES}
            if models:
                best = min(models.values(), key=len)
                keep.update(best)
                continue
        keep.add(min(i for ix in branches.values() for i in ix) if branches else -1)
    return keep


def _scalar_or_mapping(union_at: PathTuple, error: Any, branches: list[str]) -> str:
    value = error.get("input")
    if any(b.startswith("tagged-union") or b in _DIST_NAMES for b in branches):
        return (
            f"expected a number or a distribution like {{dist: exponential, mean: 2}}, "
            f"got {_describe(value)}"
        )
    return f"expected a mapping, got {_describe(value)}"


def _validation_problems(exc: ValidationError, data: Any) -> list[tuple[PathTuple, str]]:
    """Plain-words (path, message) pairs for every error in ``exc``."""
    raw = exc.errors(include_url=False)
    split = []
    for error in raw:
        kind = str(error["type"])
        loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":  # a dict key of the wrong type
            loc, error = loc[:-1], {**error, "type": "invalid_key"}
            kind = "invalid_key"
        path, union_at, branch = _split_loc(loc, data, kind)
        split.append((path, union_at, branch, error))
    keep = _union_choice(split, data)
    result: list[tuple[PathTuple, str]] = []
    seen_scalar_unions: set[PathTuple] = set()
    for index, (path, union_at, _branch, error) in enumerate(split):
        if index not in keep:
            continue
        crosscheck = (error.get("ctx") or {}).get("error")
        if isinstance(crosscheck, CrossCheckError):
            result.extend(((*path, *sub), message) for sub, message in crosscheck.problems)
            continue
        if union_at is not None and not isinstance(_value_at(data, union_at), dict):
            if union_at in seen_scalar_unions:
                continue
            seen_scalar_unions.add(union_at)
            branches = [b for p, u, b, _ in split if u == union_at]
            result.append((union_at, _scalar_or_mapping(union_at, error, branches)))
            continue
        result.append(_friendly(error, path, data))
    return result


REPAIR_ROUNDS = 8
"""How many times :func:`_cross_checks_despite` removes broken fields and validates again."""


_NAMED_LISTS = frozenset({"workflow", "team", "stakeholders", "products"})
"""Top-level lists whose entries other fields refer to by name."""


class _Repair:
    """A copy of the data with broken fields dropped, remembering what was dropped."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = copy.deepcopy(data)
        self.original = data
        self.removed: dict[str, list[int]] = {}
        """Top-level list -> original indexes of the entries dropped."""
        self.names: set[str] = set()
        """Names others may refer to that were dropped with their entry (or key)."""
        self.skills_dropped = False

    def _originals(self, name: str) -> list[int]:
        entries = self.original.get(name)
        count = len(entries) if isinstance(entries, list) else 0
        removed = set(self.removed.get(name, ()))
        return [i for i in range(count) if i not in removed]

    def original_path(self, path: PathTuple) -> PathTuple:
        """``path`` in the repaired data as a path in the original data."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            originals = self._originals(path[0])
            if 0 <= path[1] < len(originals):
                return (path[0], originals[path[1]], *path[2:])
        return path

    def drop(self, target: PathTuple) -> bool:
        """Drop the field or top-level list entry at ``target`` (or an enclosing one)."""
        while target:
            parent = _value_at(self.data, target[:-1])
            key = target[-1]
            if isinstance(parent, dict) and key in parent:
                if target[:-1] == ("templates",) and isinstance(key, str):
                    self.names.add(key)
                if len(target) >= 3 and target[0] in _NAMED_LISTS:
                    entry = _value_at(self.data, target[:2])
                    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                        self.names.add(entry["name"])  # e.g. its count: "Dev 2" may be fine
                if len(target) >= 2 and target[-2] == "skills":
                    self.skills_dropped = True
                del parent[key]
                return True
            if (
                isinstance(parent, list)
                and len(target) == 2
                and isinstance(target[0], str)
                and isinstance(key, int)
                and 0 <= key < len(parent)
            ):
                entry = parent.pop(key)
                original = self._originals(target[0])[key]
                self.removed.setdefault(target[0], []).append(original)
                if target[0] in _NAMED_LISTS and isinstance(entry, dict):
                    if isinstance(entry.get("name"), str):
                        self.names.add(entry["name"])
                    if target[0] == "team":
                        self.skills_dropped = True
                return True
            target = target[:-1]
        return False

    def hides(self, message: str) -> bool:
        """Whether a cross-check message may only be a consequence of what was dropped.

        Caps ("at most ...") count what is left, so they are never trusted here.
        """
        if "at most" in message:
            return True
        if self.skills_dropped and message.startswith("nobody in the team can work on"):
            return True
        return any(repr(name) in message or repr(name)[:-1] + " " in message for name in self.names)


def _cross_checks_despite(
    exc: ValidationError, data: Any, reported: list[PathTuple]
) -> list[tuple[PathTuple, str]]:
    """Cross-reference problems hidden behind field errors, so all are reported at once.

    The cross-checks (unknown activities, templates, stakeholders, members…)
    run only once every field is valid.  To report them together with the
    field errors, drop each broken field from a copy of the data (a broken
    required field: the list entry holding it, e.g. one backlog item) and
    validate again; when only cross-check problems remain, they are returned,
    leaving out those at an already reported path and those that may only
    follow from what was dropped (a reference to a dropped member's name).
    A broken required top-level field ends the attempt: nothing is guessed.
    """
    if not isinstance(data, dict):
        return []
    repair = _Repair(data)
    error = exc
    for _ in range(REPAIR_ROUNDS):
        split = []
        for detail in error.errors(include_url=False):
            crosscheck = (detail.get("ctx") or {}).get("error")
            if isinstance(crosscheck, CrossCheckError):
                found = []
                for sub, message in crosscheck.problems:
                    path = repair.original_path(tuple(sub))
                    if repair.hides(message) or any(path[: len(r)] == r for r in reported if r):
                        continue
                    found.append((path, message))
                return found
            kind = str(detail["type"])
            loc = tuple(detail["loc"])
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            path, union_at, branch = _split_loc(loc, repair.data, kind)
            split.append((path, union_at, branch, detail))
        keep = _union_choice(split, repair.data)
        targets = set()
        for index, (path, union_at, _branch, detail) in enumerate(split):
            if index not in keep:
                continue
            if union_at is not None and not isinstance(_value_at(repair.data, union_at), dict):
                path = union_at
            targets.add(path[:-1] if str(detail["type"]) == "missing" else path)
        if () in targets:
            return []
        # Deepest and last first, so dropping one does not move another.
        for target in sorted(targets, key=_sort_key, reverse=True):
            if not repair.drop(target):
                return []
        try:
            Scenario.model_validate(repair.data, strict=True)
        except ValidationError as again:
            error = again
        else:
            return []
    return []


def _sort_key(path: PathTuple) -> tuple[tuple[int, str], ...]:
    return tuple(
        (segment, "") if isinstance(segment, int) else (-1, str(segment)) for segment in path
    )
