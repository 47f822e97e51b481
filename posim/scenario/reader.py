"""Reading scenario text: YAML (safely) and JSON, with the line of every path.

YAML is composed with PyYAML's safe loader and turned into plain data by
:class:`_Builder`, which never constructs Python objects, reports unsupported
tags, duplicate keys and unreadable numbers, and records each path's line.
:func:`_odd_values` finds what plain data must not hold before any model sees
it: non-finite numbers, numbers too long to read, control characters.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

import yaml

from posim.scenario.models import MAX_DIGITS, MAX_YAML_NODES, PathTuple, _show

# --------------------------------------------------------------------------
# Reading YAML and JSON with line numbers
# --------------------------------------------------------------------------

_MAX_DEPTH = 64
_YAML = "tag:yaml.org,2002:"
_JSON_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_SCALAR_TAGS = frozenset(
    _YAML + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)


class _Stop(Exception):
    """Reading cannot go on (too many nodes, nested too deeply)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _SafeComposer(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's when present): posim only composes nodes with it.

    No constructor for Python objects is ever called: unknown tags are reported,
    never constructed.
    """


def _too_many_digits(digits: int) -> str:
    return f"a whole number of {digits:,} digits; at most {MAX_DIGITS} (no field needs more)"


class _HugeNumber:
    """A JSON whole number too long to read (stands in for it until it is reported)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _json_int(text: str) -> int | _HugeNumber:
    digits = len(text.lstrip("-"))
    return _HugeNumber(digits) if digits > MAX_DIGITS else int(text)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


class _Builder:
    """Turns composed YAML nodes into plain data, recording each path's line."""

    def __init__(self, loader: _SafeComposer) -> None:
        self.loader = loader
        self.lines: dict[PathTuple, int] = {}
        self.problems: list[tuple[PathTuple, int, str]] = []
        self.nodes = 0

    def build(self, node: Any, path: PathTuple, depth: int) -> Any:
        self.nodes += 1
        line = int(node.start_mark.line) + 1
        if self.nodes > MAX_YAML_NODES:
            raise _Stop(f"too many YAML nodes (alias bomb?): at most {MAX_YAML_NODES}")
        if depth > _MAX_DEPTH:
            raise _Stop(
                f"nested too deeply (at most {_MAX_DEPTH} levels; a recursive alias?)", line
            )
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path, line)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _YAML + "seq":
                self.problems.append((path, line, f"unsupported YAML tag {_short_tag(node.tag)!r}"))
                return None
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if node.tag != _YAML + "map":
            self.problems.append((path, line, f"unsupported YAML tag {_short_tag(node.tag)!r}"))
            return None
        return self._mapping(node, path, depth)

    def _scalar(self, node: Any, path: PathTuple, line: int) -> Any:
        tag = str(node.tag)
        if tag not in _SCALAR_TAGS:
            self.problems.append((path, line, f"unsupported YAML tag {_short_tag(tag)!r}"))
            return None
        if tag == _YAML + "str" and not node.style and _JSON_NUMBER.fullmatch(node.value):
            # YAML 1.1 reads 1e3 as text; read it as the number everyone means (YAML 1.2, JSON).
            return float(node.value)
        if tag in (_YAML + "str", _YAML + "timestamp"):
            return str(node.value)
        try:
            if tag == _YAML + "null":
                return None
            if tag == _YAML + "bool":
                if not node.style and str(node.value).lower() not in ("true", "false"):
                    # YAML 1.1 reads yes/no/on/off as booleans; posim reads them as words
                    # (YAML 1.2), so `name: No` stays the text "No".
                    return str(node.value)
                return self.loader.construct_yaml_bool(node)
            if tag == _YAML + "int":
                if len(node.value) > 2 * MAX_DIGITS:
                    raise ValueError(node.value)
                number = self.loader.construct_yaml_int(node)
                if abs(number) >= 10**MAX_DIGITS:
                    self.problems.append((path, line, _too_many_digits(len(str(abs(number))))))
                    return None
                return number
            return self.loader.construct_yaml_float(node)
        except (ValueError, yaml.YAMLError):
            text = str(node.value)
            if len(text) > 2 * MAX_DIGITS and text.lstrip("+-").replace("_", "").isdigit():
                message = _too_many_digits(len(text.lstrip("+-").replace("_", "")))
            else:
                message = f"not a valid number: {_show(text)}"
            self.problems.append((path, line, message))
            return None

    def _mapping(self, node: Any, path: PathTuple, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == _YAML + "merge":
                merges.append(value_node)
                continue
            key_line = int(key_node.start_mark.line) + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self.problems.append((path, key_line, "a key must be a plain word or number"))
                continue
            key = self._scalar(key_node, path, key_line)
            if key in result:
                self.problems.append(((*path, key), key_line, f"duplicate key {key!r}"))
                continue
            self.lines[(*path, key)] = key_line
            result[key] = self.build(value_node, (*path, key), depth + 1)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    line = int(source.start_mark.line) + 1
                    self.problems.append((path, line, "'<<' needs a mapping or a list of mappings"))
                    continue
                merged = self.build(source, path, depth + 1)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        result.setdefault(key, value)
        return result


def _read_yaml(text: str) -> tuple[Any, dict[PathTuple, int], list[tuple[PathTuple, int, str]]]:
    """Parse YAML safely: the data, each path's line, and the problems found on the way."""
    loader = _SafeComposer(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        builder = _Builder(loader)
        data = builder.build(node, (), 0)
        return data, builder.lines, builder.problems
    finally:
        loader.dispose()


def _read_json(
    text: str, filename: str
) -> tuple[Any, dict[PathTuple, int], list[tuple[PathTuple, int | None, str]]]:
    """Parse JSON; lines come from reading the same text as YAML when that works."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    data = json.loads(text, object_pairs_hook=pairs, parse_int=_json_int)
    try:
        _, lines, yaml_problems = _read_yaml(text)
    except (yaml.YAMLError, _Stop, RecursionError):
        lines, yaml_problems = {}, []
    problems: list[tuple[PathTuple, int | None, str]] = []
    if yaml_problems:
        problems.extend(p for p in yaml_problems if p[2].startswith("duplicate key"))
    else:
        problems.extend(((), None, f"duplicate key {key!r}") for key in duplicates)
    return data, lines, problems


_FREE_TEXT = frozenset({"description", "lesson"})
"""Fields whose text may span lines (newlines and tabs allowed, other controls not)."""


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Bidirectional overrides and isolates: they reorder how the rest of a line is shown."""


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``): safe to print to a terminal."""
    if not any(_is_control(char) for char in text):
        return text
    return "".join(repr(char)[1:-1] if _is_control(char) else char for char in text)


def _control_in(text: str, free: bool) -> str | None:
    for char in text:
        if _is_control(char) and not (free and char in "\n\t"):
            return repr(char)[1:-1]
    return None


def _odd_values(data: Any, path: PathTuple = ()) -> list[tuple[PathTuple, str]]:
    """Problems plain data has before any model sees it: non-finite numbers, numbers
    too long to read (each replaced by ``None``) and control characters in text."""
    if isinstance(data, float) and not math.isfinite(data):
        return [(path, "must be a finite number")]
    if isinstance(data, str):
        free = bool(path) and path[-1] in _FREE_TEXT
        control = _control_in(data, free)
        if control is None:
            return []
        allowed = " (only newlines and tabs are allowed here)" if free else ""
        return [(path, f"contains the control character {control}; remove it{allowed}")]
    found: list[tuple[PathTuple, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and (control := _control_in(key, False)) is not None:
                found.append(((*path, key), f"the name contains the control character {control}"))
            if isinstance(value, _HugeNumber):
                data[key] = None
                found.append(((*path, key), _too_many_digits(value.digits)))
            else:
                found.extend(_odd_values(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, _HugeNumber):
                data[i] = None
                found.append(((*path, i), _too_many_digits(value.digits)))
            else:
                found.extend(_odd_values(value, (*path, i)))
    return found
