"""Career mode: levels, unlocks and the player's saved profile.

A career carries a player from junior to senior product owner through the
built-in scenarios, in the order of :data:`CAREER`:

* the first scenario of the first level is always open;
* passing a scenario (grade B or better, see :data:`PASSING_GRADES`, without
  being let go) unlocks the next scenario of its level;
* passing every scenario of a level unlocks the first scenario of the next
  level.

Whether a scenario is open is derived from the scenarios passed, never stored,
so the rules above always hold for any profile.

**Let go.**  In career mode, a game where a most-influential stakeholder ends
with trust below :data:`posim.engine.trust.FIRED_THRESHOLD` is failed whatever
its grade (:func:`let_go` works it out from a finished game's result).

**The profile** is one JSON file, ``career.json``, in the user's data folder
(``platformdirs.user_data_dir("posim")``; the environment variable
``POSIM_HOME`` overrides the folder, and the tests always set it).  It is
versioned (``"posim_profile": 1``) and written atomically: a temporary file in
the same folder, flushed and fsynced, then :func:`os.replace`.  A profile that
cannot be read (not JSON, wrong shape) is renamed with a timestamp suffix
(``career.json.corrupt-20261126T041500Z``) and a fresh profile is started; the
:attr:`Profile.notice` says so.  A profile written by a newer posim raises
:class:`ProfileError` and is left untouched.

Typical use in the game::

    profile = career.load_profile()
    if profile.notice:
        show(profile.notice)
    ...                                   # play scenario `name` to the end
    result = sim.result()
    newly_open = career.record_game(profile, scenario, result)
    career.save_profile(profile)

This module also holds :data:`LESSON_CHECKS`: for every built-in scenario,
the scripted strategy that follows its lesson, the one that ignores it and the
metric on which the first must beat the second (a test proves it with paired
seeds).  Imports only :mod:`posim.engine.trust` and :mod:`posim.scenario`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from posim.engine import trust as trust_rules

PROFILE_VERSION: Final = 1
"""The ``posim_profile`` version this posim writes and reads."""

PROFILE_FILE: Final = "career.json"
"""The profile's file name inside :func:`profile_dir`."""

HOME_ENV: Final = "POSIM_HOME"
"""Environment variable that overrides the folder of the profile."""

LEVELS: Final[tuple[str, ...]] = ("junior", "mid", "senior")
"""Career levels, in order."""

CAREER: Final[dict[str, tuple[str, ...]]] = {
    "junior": ("tutorial", "loud-stakeholder", "launch-date"),
    "mid": ("expedite-storm", "tester-leaves", "sprint-review"),
    "senior": ("legacy-defects", "two-products", "open-door"),
}
"""The built-in scenarios of each level, in the order they unlock."""

PASSING_GRADES: Final[frozenset[str]] = frozenset({"A", "B"})
"""Grades that pass a scenario (B or better)."""

Status = Literal["locked", "unlocked", "passed"]
"""A scenario's state in the career."""


class ProfileError(Exception):
    """A profile posim must not touch (written by a newer posim) or cannot write."""


# --------------------------------------------------------------------------
# The profile
# --------------------------------------------------------------------------


@dataclass
class ScenarioRecord:
    """What the profile remembers about one scenario."""

    attempts: int = 0
    """Games finished (recorded), passed or not."""
    best_score: float | None = None
    """The best score of a game that was not let go (0..100), or ``None``."""
    best_grade: str | None = None
    """The grade of :attr:`best_score`, or ``None``."""
    passed: bool = False
    """Whether a game ever passed (grade B or better, not let go)."""
    let_go: int = 0
    """Games in which the product owner was let go."""

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data."""
        return {
            "attempts": self.attempts,
            "best_score": self.best_score,
            "best_grade": self.best_grade,
            "passed": self.passed,
            "let_go": self.let_go,
        }


@dataclass
class Profile:
    """A player's career: one :class:`ScenarioRecord` per scenario played."""

    scenarios: dict[str, ScenarioRecord] = field(default_factory=dict)
    """Records by scenario name (only scenarios that were played)."""
    created: str = ""
    """When the profile was started (ISO 8601, UTC)."""
    updated: str = ""
    """When a result was last recorded (ISO 8601, UTC)."""
    notice: str | None = None
    """A message for the player from loading (a corrupt profile was backed up), else ``None``."""

    def record(self, name: str) -> ScenarioRecord:
        """The record of scenario ``name`` (an empty one if it was never played)."""
        return self.scenarios.get(name, ScenarioRecord())

    def to_json(self) -> dict[str, Any]:
        """The profile as the JSON document saved on disk."""
        return {
            "posim_profile": PROFILE_VERSION,
            "created": self.created,
            "updated": self.updated,
            "scenarios": {name: rec.to_json() for name, rec in sorted(self.scenarios.items())},
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile_dir() -> Path:
    """The folder of the profile: ``$POSIM_HOME`` if set, else the user data folder."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("posim", appauthor=False))


def profile_path() -> Path:
    """The path of the profile file (it may not exist yet)."""
    return profile_dir() / PROFILE_FILE


def new_profile() -> Profile:
    """A fresh profile: nothing played, only the first scenario open."""
    stamp = _now()
    return Profile(created=stamp, updated=stamp)


def _grade(value: Any) -> str | None:
    if value is None:
        return None
    if value not in ("A", "B", "C", "D", "F"):
        raise ValueError(f"unknown grade {value!r}")
    return str(value)


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number >= 0")
    return value


def _parse(data: Any) -> Profile:
    """A :class:`Profile` from version-1 JSON data; ``ValueError`` when its shape is wrong."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    scenarios = data.get("scenarios", {})
    if not isinstance(scenarios, dict):
        raise ValueError("'scenarios' must be an object")
    records: dict[str, ScenarioRecord] = {}
    for name, raw in scenarios.items():
        if not isinstance(raw, dict):
            raise ValueError(f"scenarios.{name} must be an object")
        score = raw.get("best_score")
        if score is not None and (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not math.isfinite(score)
        ):
            raise ValueError(f"scenarios.{name}.best_score must be a number")
        passed = raw.get("passed", False)
        if not isinstance(passed, bool):
            raise ValueError(f"scenarios.{name}.passed must be true or false")
        records[name] = ScenarioRecord(
            attempts=_count(raw.get("attempts", 0), f"scenarios.{name}.attempts"),
            best_score=None if score is None else float(score),
            best_grade=_grade(raw.get("best_grade")),
            passed=passed,
            let_go=_count(raw.get("let_go", 0), f"scenarios.{name}.let_go"),
        )
    created, updated = data.get("created", ""), data.get("updated", "")
    if not isinstance(created, str) or not isinstance(updated, str):
        raise ValueError("'created' and 'updated' must be text")
    return Profile(records, created, updated)


def _backup(path: Path) -> Path:
    """Rename a corrupt profile out of the way; returns the backup's path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while backup.exists():
        number += 1
        backup = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    os.replace(path, backup)
    return backup


def load_profile(path: Path | None = None) -> Profile:
    """Load the profile (default: :func:`profile_path`); a fresh one if there is none.

    A profile that cannot be read as a version-1 profile is renamed to
    ``<name>.corrupt-<UTC timestamp>`` and a fresh profile is returned whose
    :attr:`Profile.notice` tells the player (never an exception).  A profile
    written by a newer posim raises :class:`ProfileError` and is left as it is.
    """
    path = profile_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return new_profile()
    except OSError as error:
        raise ProfileError(f"{path}: cannot read the career profile: {error.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        version = data.get("posim_profile") if isinstance(data, dict) else None
        if isinstance(version, int) and not isinstance(version, bool) and version > PROFILE_VERSION:
            raise ProfileError(
                f"{path}: the career profile was written by a newer posim "
                f"(profile version {version}; this posim reads {PROFILE_VERSION}); "
                "upgrade posim, or start over with `posim career --reset --yes`"
            )
        if version != PROFILE_VERSION:
            raise ValueError(f"'posim_profile' must be {PROFILE_VERSION}, got {version!r}")
        return _parse(data)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as error:
        if isinstance(error, json.JSONDecodeError):
            reason = f"not valid JSON: {error.msg} at line {error.lineno}"
        elif isinstance(error, UnicodeDecodeError):
            reason = "not UTF-8 text"
        elif isinstance(error, RecursionError):
            reason = "nested too deeply"
        else:
            reason = str(error)
        try:
            backup = _backup(path)
        except OSError as move_error:
            raise ProfileError(
                f"{path}: the career profile is unreadable ({reason}) and could not be "
                f"moved aside: {move_error.strerror}"
            ) from None
        profile = new_profile()
        profile.notice = (
            f"{path}: the career profile was unreadable ({reason}); it was moved to "
            f"{backup.name} and a fresh profile was started"
        )
        return profile


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Write the profile atomically (temp file in the same folder, fsync, replace).

    Returns the path written.  Raises :class:`ProfileError` when it cannot be
    written (the old file, if any, is then left intact).
    """
    path = profile_path() if path is None else path
    text = json.dumps(profile.to_json(), indent=2, sort_keys=False) + "\n"
    temp_name: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
        temp_name = None
        with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
    except OSError as error:
        raise ProfileError(
            f"{error.filename or path}: cannot save the career profile: {error.strerror}"
        ) from None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
    return path


def reset_profile(path: Path | None = None) -> bool:
    """Delete the profile (all progress); ``True`` if there was one to delete."""
    path = profile_path() if path is None else path
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise ProfileError(f"{path}: cannot delete the career profile: {error.strerror}") from None
    return True


# --------------------------------------------------------------------------
# Unlock rules
# --------------------------------------------------------------------------


def career_scenarios() -> list[tuple[str, str]]:
    """Every career scenario as ``(level, name)``, in unlock order."""
    return [(level, name) for level in LEVELS for name in CAREER[level]]


def level_of(name: str) -> str | None:
    """The career level of a built-in scenario, or ``None`` if it is not in the career."""
    return next((level for level, names in CAREER.items() if name in names), None)


def counts(source: str, scenario: Any, seed: int) -> bool:
    """Whether a game counts for the career without being started from the career screen.

    A game of a built-in career scenario (``posim play tutorial``: ``source`` is
    the built-in's name) on the scenario's default seed counts, as the hint of
    ``posim career`` ("next: posim play NAME") promises; another seed or a
    scenario file does not.
    """
    return source == scenario.name and level_of(scenario.name) is not None and seed == scenario.seed


def passes(grade: str, let_go_by: str | None = None) -> bool:
    """Whether a game with this grade passes: B or better and not let go."""
    return grade in PASSING_GRADES and let_go_by is None


def status(profile: Profile, name: str) -> Status:
    """``passed``, ``unlocked`` (open, not passed yet) or ``locked``.

    Raises ``KeyError`` for a scenario that is not in the career.
    """
    level = level_of(name)
    if level is None:
        raise KeyError(f"{name!r} is not a career scenario")
    if profile.record(name).passed:
        return "passed"
    names = CAREER[level]
    index = names.index(name)
    if index > 0:
        return "unlocked" if profile.record(names[index - 1]).passed else "locked"
    position = LEVELS.index(level)
    if position == 0:
        return "unlocked"
    previous = CAREER[LEVELS[position - 1]]
    return "unlocked" if all(profile.record(n).passed for n in previous) else "locked"


def unlocked(profile: Profile) -> list[str]:
    """Names of the career scenarios the player may play (open or passed), in order."""
    return [name for _, name in career_scenarios() if status(profile, name) != "locked"]


def level_unlocked(profile: Profile, level: str) -> bool:
    """Whether the first scenario of ``level`` is open (every earlier level passed)."""
    return status(profile, CAREER[level][0]) != "locked"


def current_level(profile: Profile) -> str:
    """The highest level the player has reached (``junior`` for a fresh profile)."""
    reached = [level for level in LEVELS if level_unlocked(profile, level)]
    return reached[-1]


def next_scenario(profile: Profile) -> str | None:
    """The first open scenario not passed yet, or ``None`` when the career is complete."""
    return next(
        (name for _, name in career_scenarios() if status(profile, name) == "unlocked"), None
    )


def record_result(
    profile: Profile,
    scenario_name: str,
    score: float,
    grade: str,
    *,
    let_go_by: str | None = None,
) -> list[str]:
    """Record a finished game in ``profile`` (in memory; call :func:`save_profile`).

    ``score`` is the total (0..100) and ``grade`` the letter of
    :class:`posim.engine.scoring.Score`; ``let_go_by`` names the stakeholder who
    got the product owner let go (see :func:`let_go`), which fails the game
    whatever its grade.  The best score and grade only count games that were
    not let go.  Returns the career scenarios this result newly unlocked, in
    order (empty when nothing opened).  A scenario outside the career is
    recorded but unlocks nothing.
    """
    grade = _grade(grade) or "F"
    if not math.isfinite(score):
        raise ValueError(f"score must be a finite number, got {score!r}")
    before = set(unlocked(profile))
    record = profile.scenarios.setdefault(scenario_name, ScenarioRecord())
    record.attempts += 1
    if let_go_by is not None:
        record.let_go += 1
    elif record.best_score is None or score > record.best_score:
        record.best_score = float(score)
        record.best_grade = grade
    if passes(grade, let_go_by):
        record.passed = True
    profile.updated = _now()
    return [name for name in unlocked(profile) if name not in before]


def final_trust(scenario: Any, result: Any) -> list[tuple[str, float, float]]:
    """``(name, influence, trust)`` of each stakeholder at the end of a game.

    Replays the result's trust changes (``result.trust_changes``) from each
    stakeholder's starting trust with :func:`posim.engine.trust.apply`, as the
    engine does.
    """
    trusts = {s.name: float(s.trust) for s in scenario.stakeholders}
    for _day, change in result.trust_changes:
        if change.stakeholder in trusts:
            trusts[change.stakeholder] = trust_rules.apply(trusts[change.stakeholder], change.delta)
    return [(s.name, float(s.influence), trusts[s.name]) for s in scenario.stakeholders]


def let_go(scenario: Any, result: Any) -> str | None:
    """The stakeholder whose distrust gets the product owner let go, or ``None``.

    ``scenario`` is the :class:`~posim.scenario.Scenario` played and ``result``
    its finished :class:`~posim.engine.metrics.Result`; the rule is
    :func:`posim.engine.trust.fired`.
    """
    return trust_rules.fired(final_trust(scenario, result))


def record_game(profile: Profile, scenario: Any, result: Any) -> list[str]:
    """:func:`record_result` for a finished game: its score, grade and the let-go rule.

    Returns the career scenarios newly unlocked.
    """
    return record_result(
        profile,
        scenario.name,
        result.score.total,
        result.score.grade,
        let_go_by=let_go(scenario, result),
    )


def progress(profile: Profile, titles: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per career scenario, in order, for a career screen or ``posim career``.

    Each row: ``level``, ``scenario`` (name), ``title``, ``status``
    (``locked``/``unlocked``/``passed``), ``best_grade``, ``best_score``,
    ``attempts`` and ``let_go``.  ``titles`` maps names to titles (default:
    read from the built-in scenarios; a missing one shows its name).
    """
    if titles is None:
        titles = builtin_titles()
    rows = []
    for level, name in career_scenarios():
        record = profile.record(name)
        rows.append(
            {
                "level": level,
                "scenario": name,
                "title": titles.get(name, name),
                "status": status(profile, name),
                "best_grade": record.best_grade,
                "best_score": None if record.best_score is None else round(record.best_score, 1),
                "attempts": record.attempts,
                "let_go": record.let_go,
            }
        )
    return rows


def progress_document(profile: Profile, path: Path | None = None) -> dict[str, Any]:
    """What ``posim career --json`` prints: the profile's path, level, next scenario and rows.

    Keys: ``posim_profile`` (the format version), ``profile`` (the file's path),
    ``level`` (:func:`current_level`), ``next`` (:func:`next_scenario`),
    ``passed`` and ``total`` (counts) and ``scenarios`` (:func:`progress`).
    """
    rows = progress(profile)
    return {
        "posim_profile": PROFILE_VERSION,
        "profile": str(profile_path() if path is None else path),
        "level": current_level(profile),
        "next": next_scenario(profile),
        "passed": sum(row["status"] == "passed" for row in rows),
        "total": len(rows),
        "scenarios": rows,
    }


def builtin_titles() -> dict[str, str]:
    """Titles of the built-in scenarios by name."""
    from posim.scenario import builtin_scenarios

    return {entry["name"]: entry["title"] for entry in builtin_scenarios()}


# --------------------------------------------------------------------------
# What each built-in scenario teaches, as a checkable claim
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonCheck:
    """A built-in scenario's lesson as a comparison of two scripted product owners.

    With the same seeds (common random numbers), :attr:`follows` must beat
    :attr:`ignores` on :attr:`metric` (higher is better unless
    :attr:`lower_is_better`).  When :attr:`ignores_variant` is set, the
    ignoring side plays the scenario with those top-level fields replaced
    (e.g. every WIP limit removed) instead of a different strategy.
    """

    scenario: str
    """The built-in scenario's name."""
    metric: str
    """The metric the lesson is about (a key of ``posim.engine.METRIC_NAMES``)."""
    follows: str
    """Strategy spec (``ORDERING[+REPORTING]``) that follows the lesson."""
    ignores: str
    """Strategy spec that ignores it."""
    lower_is_better: bool = False
    """True for metrics where less is better (lead time, cost of delay, blocked days)."""
    ignores_variant: Mapping[str, Any] | None = None
    """Top-level scenario fields the ignoring side replaces, or ``None``."""
    ignores_label: str = ""
    """How the docs name the ignoring side when it is a variant (e.g. ``wsjf without WIP limits``)."""
    summary: str = ""
    """One line for the docs: what the comparison shows."""

    def describe(self) -> str:
        """``wsjf beats loudest on net_value (higher is better)`` and the like."""
        better = "lower" if self.lower_is_better else "higher"
        ignores = self.ignores_label or self.ignores
        if self.ignores_variant is not None and not self.ignores_label:
            ignores = f"{self.ignores} with {', '.join(self.ignores_variant)} changed"
        return f"{self.follows} beats {ignores} on {self.metric} ({better} is better)"


_NO_WIP_LIMITS: Final[dict[str, Any]] = {
    "workflow": [{"name": "analysis"}, {"name": "development"}, {"name": "test"}],
    "ready_wip": None,
}

LESSON_CHECKS: Final[tuple[LessonCheck, ...]] = (
    LessonCheck(
        "tutorial",
        "cost_of_delay",
        "wsjf",
        "fifo",
        lower_is_better=True,
        summary="ordering by cost of delay per effort day pays less for waiting than first come, "
        "first served",
    ),
    LessonCheck(
        "loud-stakeholder",
        "net_value",
        "wsjf",
        "loudest",
        summary="serving the most influential stakeholder first lets the costly support fixes wait",
    ),
    LessonCheck(
        "launch-date",
        "trust_mean",
        "wsjf+honest",
        "wsjf+green",
        summary="same work, different reports: re-forecasting early keeps the director's "
        "trust; 'all green' until launch day loses it (and gets you let go)",
    ),
    LessonCheck(
        "expedite-storm",
        "deadline_hit_rate",
        "cos",
        "fifo",
        summary="classes of service hit the partners' go-live dates that one queue misses",
    ),
    LessonCheck(
        "tester-leaves",
        "cycle_time_mean",
        "wsjf",
        "wsjf",
        lower_is_better=True,
        ignores_variant=_NO_WIP_LIMITS,
        ignores_label="wsjf without WIP limits",
        summary="the same team and luck with every WIP limit removed: as many items done, "
        "but each takes far longer from start to finish",
    ),
    LessonCheck(
        "sprint-review",
        "trust_mean",
        "wsjf+honest",
        "wsjf+optimistic",
        summary="same sprints, different reviews: forecasts from observed throughput keep "
        "the board's trust; the sum of the estimates does not",
    ),
    LessonCheck(
        "legacy-defects",
        "items_done",
        "wsjf",
        "value",
        summary="wsjf does the cheap, costly-to-delay improvements first and the whole "
        "flow speeds up; highest value first never gets to them",
    ),
    LessonCheck(
        "two-products",
        "net_value",
        "wsjf",
        "loudest",
        summary="one backlog across both products by cost of delay beats the CEO's product first",
    ),
    LessonCheck(
        "open-door",
        "blocked_days",
        "wsjf",
        "wsjf",
        lower_is_better=True,
        ignores_variant={"product_owner": {"daily_budget": 4, "response_days": 3}},
        ignores_label="wsjf with a PO who answers after 3 days",
        summary="the same team and luck with a PO who answers questions after three days: "
        "items sit blocked far longer",
    ),
)
"""Every built-in scenario's lesson as a checkable claim (a test runs each one)."""


def lesson_check(name: str) -> LessonCheck | None:
    """The :class:`LessonCheck` of a built-in scenario, or ``None``."""
    return next((check for check in LESSON_CHECKS if check.scenario == name), None)


def variant(scenario: Any, changes: Mapping[str, Any]) -> Any:
    """A copy of ``scenario`` with fields replaced (dotted paths), validated again.

    The one way posim edits scenarios: :func:`posim.scenario_edits.edited`.
    """
    from posim.scenario_edits import edited

    return edited(scenario, changes, "lesson-variant.json")


def lesson_runs(
    check: LessonCheck, seeds: Iterable[int]
) -> tuple[list[float | None], list[float | None]]:
    """Run a lesson check: the metric for ``follows`` and for ``ignores``, seed by seed."""
    from posim.engine import simulate
    from posim.scenario import load_scenario

    scenario = load_scenario(check.scenario)
    ignoring = (
        scenario if check.ignores_variant is None else variant(scenario, check.ignores_variant)
    )
    follows: list[float | None] = []
    ignores: list[float | None] = []
    for seed in seeds:
        good = simulate(scenario, strategy=check.follows, seed=seed, keep_records=False)
        bad = simulate(ignoring, strategy=check.ignores, seed=seed, keep_records=False)
        follows.append(good.metrics[check.metric])
        ignores.append(bad.metrics[check.metric])
    return follows, ignores
