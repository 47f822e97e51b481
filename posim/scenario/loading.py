"""Loading scenarios: text, files and the built-in scenarios; the JSON Schema.

:func:`parse_scenario` reads text (:mod:`posim.scenario.reader`), validates it
(:mod:`posim.scenario.models`) and reports every problem at once
(:mod:`posim.scenario.problems`).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from posim.scenario.models import MAX_FILE_BYTES, PathTuple, Scenario
from posim.scenario.problems import (
    Problem,
    ScenarioError,
    _cross_checks_despite,
    _describe,
    _validation_problems,
)
from posim.scenario.reader import (
    _odd_values,
    _read_json,
    _read_yaml,
    _Stop,
    printable,
)

# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _line_of(lines: dict[PathTuple, int], path: PathTuple) -> int | None:
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def _dotted(path: PathTuple) -> str:
    return printable(".".join(str(segment) for segment in path))


def _fail(filename: str, message: str, line: int | None = None) -> ScenarioError:
    return ScenarioError([Problem(filename, line, "", message)])


def parse_scenario(text: str | bytes, filename: str = "<string>") -> Scenario:
    """Validate scenario text (YAML, or JSON when ``filename`` ends in ``.json``).

    Raises :class:`ScenarioError` listing every problem, each with its line.
    """
    if isinstance(text, bytes):
        raw = text
        if len(raw) > MAX_FILE_BYTES:
            raise _fail(filename, f"file too large ({len(raw)} bytes; at most {MAX_FILE_BYTES})")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise _fail(filename, "not UTF-8 text", line) from None
    elif len(text) > MAX_FILE_BYTES:
        raise _fail(filename, f"file too large ({len(text)} characters; at most {MAX_FILE_BYTES})")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _fail(filename, "the file is empty", 1)

    found: list[tuple[PathTuple, int | None, str]] = []
    try:
        if filename.lower().endswith(".json"):
            data, lines, found_json = _read_json(text, filename)
            found.extend(found_json)
        else:
            data, lines, found_yaml = _read_yaml(text)
            found.extend(found_yaml)
    except json.JSONDecodeError as exc:
        raise _fail(filename, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        mark_line = None if mark is None else int(mark.line) + 1
        message = f"invalid YAML: {exc.problem or exc}"
        if exc.context and not str(exc.context).startswith("while"):
            message = f"invalid YAML: {exc.context}, {exc.problem}"
        elif exc.context:
            context = str(exc.context)
            if exc.context_mark is not None and exc.context_mark.line + 1 != mark_line:
                context += f" started on line {exc.context_mark.line + 1}"
            message += f" ({context})"
        raise _fail(filename, message, mark_line) from None
    except yaml.YAMLError as exc:
        raise _fail(filename, f"invalid YAML: {exc}") from None
    except _Stop as exc:
        raise _fail(filename, exc.message, exc.line) from None
    except RecursionError:
        raise _fail(filename, "nested too deeply") from None

    if data is None and not found:
        raise _fail(filename, "the file is empty", 1)
    if not isinstance(data, dict):
        if found:
            raise ScenarioError([Problem(filename, line, _dotted(p), m) for p, line, m in found])
        raise _fail(
            filename,
            f"expected a mapping of scenario fields (posim: 1, name: ...), got {_describe(data)}",
            lines.get(()),
        )
    for path, message in _odd_values(data):
        found.append((path, _line_of(lines, path), message))

    flagged = [path for path, _, _ in found]
    try:
        scenario = Scenario.model_validate(data, strict=True)
    except ValidationError as exc:
        problems_found = _validation_problems(exc, data)
        problems_found += _cross_checks_despite(exc, data, [p for p, _ in problems_found])
        for path, message in problems_found:
            if any(path[: len(f)] == f for f in flagged if f):
                continue  # already reported while reading (NaN, unsupported tag, ...)
            if message == "must be a finite number" and any(
                f[: len(path)] == path for f in flagged
            ):
                continue
            found.append((path, _line_of(lines, path), message))
    else:
        if not found:
            return scenario
    problems = [Problem(filename, line, _dotted(path), message) for path, line, message in found]
    problems = list(dict.fromkeys(problems))
    problems.sort(key=lambda p: p.line if p.line is not None else 0)
    raise ScenarioError(problems)


def _builtin_folder() -> Traversable:
    """The package ``posim.scenarios``; in a source checkout that is not installed, ``scenarios/``."""
    try:
        return resources.files("posim.scenarios")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "scenarios"


def builtin_files() -> dict[str, Traversable]:
    """The built-in scenario files by name (``tutorial`` -> its YAML file)."""
    folder = _builtin_folder()
    return {
        entry.name.rsplit(".", 1)[0]: entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith((".yaml", ".yml", ".json"))
    }


def load_scenario(source: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a file path or a built-in scenario's name (e.g. ``tutorial``).

    Raises :class:`ScenarioError` listing every problem, each as
    ``file:line: dotted.path: message``.
    """
    name = os.fspath(source)
    path = Path(name)
    builtins = builtin_files()
    if not path.suffix and not path.exists() and name in builtins:
        entry = builtins[name]
        return parse_scenario(entry.read_bytes(), entry.name)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(name, f"file too large ({size} bytes; at most {MAX_FILE_BYTES})")
        with path.open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = ""
        if not path.suffix and isinstance(exc, FileNotFoundError):
            hint = f" (built-in scenarios: {', '.join(sorted(builtins))})"
        raise _fail(name, f"cannot read: {reason}{hint}") from None
    return parse_scenario(content, name)


def builtin_scenarios() -> list[dict[str, str]]:
    """The built-in scenarios as ``{"name", "title", "level", "description"}``, tutorial first."""
    result = []
    for name, entry in builtin_files().items():
        scenario = parse_scenario(entry.read_bytes(), entry.name)
        result.append(
            {
                "name": name,
                "title": scenario.display_title,
                "level": scenario.level,
                "description": scenario.description,
            }
        )
    levels = {"junior": 0, "mid": 1, "senior": 2}
    result.sort(key=lambda s: (s["name"] != "tutorial", levels[s["level"]], s["name"]))
    return result


SCHEMA_ID = "urn:posim:scenario-schema:1"
"""The ``$id`` of the published scenario JSON Schema."""


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (what ``posim schema`` prints)."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
