"""Fuzzing posim's input: scenario files, save files and command-line arguments.

DESIGN's rule for bad input, checked on whatever Hypothesis makes up: every
input ends with a result or one line per problem (exit status 2 on the
command line), never a traceback, within a time budget; and a scenario that
validates runs to its horizon within that budget (the caps of
``docs/limits.md`` are what make that true).

Four fuzzers:

* **structured scenarios**: a valid scenario with fields replaced by hostile
  values (tiny, huge, negative, NaN, infinite, 5,000-digit numbers, text with
  terminal escapes, lists, mappings, nothing), deleted or added, written as
  YAML or JSON;
* **mutated text**: built-in scenario files and a save with random edits;
* **saves**: a real game's save with fields and commands replaced;
* **command lines**: ``posim validate/run/replay`` with odd arguments, in a
  subprocess with a memory limit.

The fast suite runs a short, derandomised pass of each (a few seconds); the
``slow`` tests (``make test-slow``) run many more examples with fresh seeds.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posim import saves
from posim.engine import simulate
from posim.scenario import Scenario, ScenarioError, builtin_files, parse_scenario, printable

REPO_ROOT = Path(__file__).resolve().parent.parent

SIMULATION_BUDGET_SECONDS = 60.0
"""A scenario that validates must run to its horizon within this (one replication)."""
CLI_BUDGET_SECONDS = 120.0
"""A posim command (start-up included) must end within this."""
CLI_MEMORY_BYTES = 3 * 1024**3
"""Address-space limit of each posim command the CLI fuzzer starts."""

FAST = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""The fast suite's pass: few examples, the same ones every time."""
LONG = settings(
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""``make test-slow``'s pass: many examples, fresh ones every run."""

HUGE = "HUGE-NUMBER-5000"
"""Stands for a 5,000-digit whole number until the document is text (json cannot write it)."""

TUTORIAL_TEXT = builtin_files()["tutorial"].read_text(encoding="utf-8")
TUTORIAL: dict[str, Any] = yaml.safe_load(TUTORIAL_TEXT)


class Overtime(Exception):
    """The wall-clock budget ran out."""


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Raise :class:`Overtime` in this (main) thread after ``seconds`` of wall-clock time."""

    def ring(signum: int, frame: Any) -> None:
        raise Overtime(f"more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------
# Hostile values and mutations of plain data
# --------------------------------------------------------------------------

CONTROL_TEXT = ["\x1b[2J", "\x1b]0;pwned\x07", "a\x00b", "\x9b31m", "line\nbreak", "tab\there"]
SPECIAL_NUMBERS = [
    0,
    -1,
    1,
    2.5,
    1e-300,
    1e-7,
    0.00016,
    1e308,
    -0.0,
    2**63,
    2**200,
    10**40,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    3650,
    3651,
    20_000,
    100_000,
]

hostile_scalars = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.sampled_from(CONTROL_TEXT),
    st.sampled_from(["", "x", "development", "Sales", "feature", "fifo", "scrum", HUGE]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.none(),
)
hostile_values = st.one_of(
    hostile_scalars,
    st.lists(hostile_scalars, max_size=3),
    st.dictionaries(st.sampled_from(["dist", "mean", "x", "name", "low"]), hostile_scalars),
    st.just({"dist": "exponential", "mean": 1e-300}),
    st.just({"dist": "uniform", "low": 0, "high": 1e-9}),
)


def paths_of(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into plain data (the root excluded)."""
    found = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_of(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one to four fields replaced, deleted, added or duplicated."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = paths_of(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for segment in path[:-1]:
            parent = parent[segment]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "copy"]))
        if action == "replace":
            parent[key] = copy.deepcopy(draw(hostile_values))  # st.just() values are shared
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            name = draw(st.sampled_from(["extra", "wip", "every", "name", "\x1b[2J"]))
            parent[name] = copy.deepcopy(draw(hostile_values))
        elif isinstance(parent, list):
            parent.extend([copy.deepcopy(parent[key])] * draw(st.integers(1, 3)))
    return data


def as_json(data: Any) -> str:
    return json.dumps(data).replace(json.dumps(HUGE), "9" * 5000)


def as_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=False).replace(HUGE, "9" * 5000)


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def check_scenario_text(text: str | bytes, filename: str) -> None:
    """Validate ``text``: a scenario (which must then run in budget) or printable problem lines."""
    try:
        with budget(SIMULATION_BUDGET_SECONDS):
            scenario = parse_scenario(text, filename)
    except ScenarioError as error:
        lines = str(error).splitlines()
        assert lines, "a ScenarioError with no problem"
        for line in lines:
            assert line.startswith(filename), line
            assert printable(line) == line, repr(line)  # no terminal control gets out
            assert len(line) < 600, line[:200]
        return
    check_runs(scenario)


def check_runs(scenario: Scenario) -> None:
    with budget(SIMULATION_BUDGET_SECONDS):
        result = simulate(scenario, "wsjf", keep_records=False)
    assert result.horizon == scenario.horizon_days


def check_save_text(text: str | bytes, tmp_path: Path) -> None:
    """Read and replay a save: a result or :class:`SaveError` lines naming the file."""
    path = tmp_path / "fuzzed.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    try:
        with budget(SIMULATION_BUDGET_SECONDS):
            saves.replay(path)
    except saves.SaveError as error:
        for line in str(error).splitlines():
            assert line.startswith(str(path)), line
            assert printable(line) == line, repr(line)


@st.composite
def edited(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to eight random edits (insertions, deletions, replacements)."""
    alphabet = st.sampled_from(
        [*list(":{}[],-#&*!|>'\"\n 0123456789.e"), "\t", "\x1b", "\x00", "<<", "!!python/object"]
    )
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        span = draw(st.integers(min_value=0, max_value=6))
        insert = "".join(draw(st.lists(alphabet, max_size=4)))
        text = text[:at] + insert + text[at + span :]
    return text


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


def _scenario_fuzz(data: dict[str, Any], as_json_file: bool) -> None:
    if as_json_file:
        check_scenario_text(as_json(data), "fuzzed.json")
    else:
        check_scenario_text(as_yaml(data), "fuzzed.yaml")


@FAST
@given(data=mutated(TUTORIAL), as_json_file=st.booleans())
def test_fuzz_structured_scenarios(data: dict[str, Any], as_json_file: bool) -> None:
    _scenario_fuzz(data, as_json_file)


@pytest.mark.slow
@LONG
@given(data=mutated(TUTORIAL), as_json_file=st.booleans())
def test_fuzz_structured_scenarios_long(data: dict[str, Any], as_json_file: bool) -> None:
    _scenario_fuzz(data, as_json_file)


BUILTIN_TEXTS = {name: entry.read_text(encoding="utf-8") for name, entry in builtin_files().items()}


@st.composite
def edited_builtin(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(BUILTIN_TEXTS)))
    return name, draw(edited(BUILTIN_TEXTS[name]))


@FAST
@given(case=edited_builtin(), as_json_file=st.booleans())
def test_fuzz_edited_scenario_text(case: tuple[str, str], as_json_file: bool) -> None:
    check_scenario_text(case[1], "fuzzed.json" if as_json_file else "fuzzed.yaml")


@pytest.mark.slow
@LONG
@given(case=edited_builtin(), as_json_file=st.booleans())
def test_fuzz_edited_scenario_text_long(case: tuple[str, str], as_json_file: bool) -> None:
    check_scenario_text(case[1], "fuzzed.json" if as_json_file else "fuzzed.yaml")


@FAST
@given(data=mutated(TUTORIAL))
def test_fuzz_edited_json_scenarios(data: dict[str, Any]) -> None:
    check_scenario_text(as_json(data).replace('"', "", 1), "fuzzed.json")


# --------------------------------------------------------------------------
# Saves
# --------------------------------------------------------------------------

SAVE: dict[str, Any] = {
    "posim_save": 1,
    "posim_version": "0.1.0",
    "scenario": {
        "name": "tutorial",
        "source": "tutorial",
        "sha256": saves.load_source("tutorial")[1],
    },
    "seed": 7,
    "day": 12.5,
    "commands": [
        {"day": 0.0, "type": "reorder", "item": 5, "rank": 0},
        {"day": 1.0, "type": "commit", "item": 2},
        {"day": 2.0, "type": "set_wip", "column": "development", "limit": 2},
        {"day": 3.0, "type": "set_wip", "column": "ready", "limit": None},
        {"day": 4.0, "type": "report", "stakeholder": "Sales", "status": "at_risk",
         "forecast_day": 20.0},
        {"day": 5.0, "type": "accept", "item": 17, "rank": None},
        {"day": 6.0, "type": "decline", "item": 18},
        {"day": 7.0, "type": "answer", "item": 3},
    ],
}  # fmt: skip
"""A tutorial save with one command of every type (some refused by the engine: fine)."""


@FAST
@given(data=mutated(SAVE))
def test_fuzz_saves(data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    check_save_text(as_json(data), tmp_path_factory.mktemp("save"))


@FAST
@given(text=edited(json.dumps(SAVE, indent=1)))
def test_fuzz_edited_save_text(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    check_save_text(text, tmp_path_factory.mktemp("save"))


@pytest.mark.slow
@LONG
@given(data=mutated(SAVE), text=edited(json.dumps(SAVE, indent=1)))
def test_fuzz_saves_long(
    data: dict[str, Any], text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("save")
    check_save_text(as_json(data), folder)
    check_save_text(text, folder)


# --------------------------------------------------------------------------
# Command lines
# --------------------------------------------------------------------------

ARGUMENTS = [
    "tutorial",
    "scenarios/tutorial.yaml",
    "tests/data/bad_fields.yaml",
    "tests/data/bad_hidden.yaml",
    "tests/data/bad_alias_bomb.yaml",
    "tests/data/",
    "/dev/null",
    "no-such-file.yaml",
    "",
    "-",
    "--",
    "--json",
    "--runs",
    "--seed",
    "--strategy",
    "--reporting",
    "--out",
    "--help",
    "0",
    "1",
    "2",
    "-1",
    "1e3",
    "nan",
    "9" * 30,
    "9" * 5000,
    "wsjf+green",
    "nosuch+honest",
    "x.py:Y",
    ":",
    "+",
    "\x1b[2J",
    "é",
]
odd_words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Nd"), blacklist_characters="\x00"),
    max_size=8,
)


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # in the child: a memory budget
        resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY_BYTES, CLI_MEMORY_BYTES))

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "POSIM_HOME": str(cwd / "home")}
    return subprocess.run(
        [sys.executable, "-m", "posim", *args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        env=env,
        timeout=CLI_BUDGET_SECONDS,
        check=False,
        preexec_fn=limit,
    )


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(["validate", "run", "replay"]))
    words = draw(st.lists(st.one_of(st.sampled_from(ARGUMENTS), odd_words), max_size=5))
    if "--help" in words:
        words.remove("--help")
    return [command, *words]


def check_command_line(args: list[str], folder: Path) -> None:
    (folder / "scenarios").mkdir(exist_ok=True)
    (folder / "scenarios" / "tutorial.yaml").write_text(TUTORIAL_TEXT, encoding="utf-8")
    (folder / "tests").mkdir(exist_ok=True)
    data = REPO_ROOT / "tests" / "data"
    if not (folder / "tests" / "data").exists():
        (folder / "tests" / "data").symlink_to(data)
    done = run_cli(args, folder)
    assert done.returncode in (0, 2), (args, done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, (args, done.stderr[-2000:])
    assert "\x1b" not in done.stderr, (args, done.stderr[-2000:])


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(args=command_lines())
def test_fuzz_command_lines(args: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    check_command_line(args, tmp_path_factory.mktemp("cli"))


@pytest.mark.slow
@settings(max_examples=120, deadline=None, database=None)
@given(args=command_lines())
def test_fuzz_command_lines_long(args: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    check_command_line(args, tmp_path_factory.mktemp("cli"))
