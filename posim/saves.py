"""Saved games: versioned JSON files of ``(scenario, seed, commands)``.

A game is fully described by its scenario, its root seed and the commands the
player gave, each with the day it was given (DESIGN section 3), so a save is
just that, as JSON (never pickle)::

    {"posim_save": 2, "posim_version": "0.1.0",
     "scenario": {"name": "tutorial", "source": "tutorial", "sha256": "..."},
     "seed": 7, "day": 12.5,
     "commands": [{"day": 3.25, "type": "reorder", "item": 4, "rank": 0}, ...]}

``source`` is a file path or a built-in scenario's name; ``sha256`` is the hash
of the scenario file's bytes, so a save whose scenario changed since is refused
instead of silently replaying a different game.  Files are written atomically
(a temporary file in the same folder, fsync, :func:`os.replace`).  Every
problem with a save raises :class:`SaveError` with one line, ``file: problem``.

No Textual or Rich here: ``posim replay`` uses this module headless.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from posim.engine import commands as cmd
from posim.scenario import printable

if TYPE_CHECKING:
    from posim.engine.metrics import Result
    from posim.engine.simulation import Simulation
    from posim.scenario import Scenario

SAVE_FORMAT = 2
"""The save format version this posim writes (and the newest it reads).

Format 1: each command applies after the clock ran *until* its day (events at
exactly that day come after it); a person's decisions cost no PO time.
Format 2: each command applies after every event at or before its day (the
game pauses exactly at the event that wants the player), and, where the
scenario sets ``product_owner.daily_budget``, a person's triage, answers and
reports spend the PO's time as a strategy's do.  A format-1 save still
replays (and, continued, keeps playing) by format 1's rules.
"""

MAX_SAVE_BYTES = 20_000_000
"""A save larger than this is refused (a real game is a few kilobytes)."""

AUTOSAVE_NAME = "autosave.json"
"""The autosave's file name inside :func:`data_dir`."""

HOME_ENV = "POSIM_HOME"
"""Environment variable that overrides the user data folder (tests set it)."""


class SaveError(Exception):
    """A save that cannot be read, written or replayed; ``str()`` is one line."""


@dataclass(frozen=True)
class SavedGame:
    """The content of one save file."""

    scenario_name: str
    """The scenario's ``name``."""
    source: str
    """A scenario file path or a built-in scenario's name."""
    sha256: str
    """SHA-256 of the scenario file's bytes when the game was saved."""
    seed: int
    """The game's root seed."""
    commands: list[tuple[float, cmd.Command]] = field(default_factory=list)
    """Every command the player gave, with its day, in order."""
    day: float = 0.0
    """The simulated day the game had reached."""
    posim_version: str = ""
    """The posim version that wrote the save."""
    career: bool = False
    """Whether the game counts for the player's career (written only when true)."""
    format: int = SAVE_FORMAT
    """The save format the game is played by (see :data:`SAVE_FORMAT`)."""
    opening: int | None = None
    """Format 2: how many commands came before the clock first ran (they apply before
    day 0's events); None: the clock never ran."""


def data_dir() -> Path:
    """The user data folder: ``$POSIM_HOME`` if set, else platformdirs' ``user_data_dir``."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("posim", appauthor=False))


def autosave_path() -> Path:
    """Where the game autosaves."""
    return data_dir() / AUTOSAVE_NAME


def saves_dir() -> Path:
    """Where the game writes saves the player asks for."""
    return data_dir() / "saves"


def keep_unfinished_autosave(path: Path, same: SavedGame | None = None) -> Path | None:
    """Before a new game takes over the autosave at ``path``, keep an unfinished one.

    An autosave whose game has not reached its horizon is copied to
    ``saves/autosave-<scenario>.json`` (one per scenario: a newer unfinished game
    of the same scenario replaces it), where *Load* finds it.  Returns where it
    was kept, or None (no autosave, a finished game, one that cannot be read, or
    the very game ``same`` that is being continued).
    """
    try:
        save = read_save(path)
    except SaveError:
        return None
    if same is not None and (save.scenario_name, save.seed, save.commands, save.day) == (
        same.scenario_name,
        same.seed,
        same.commands,
        same.day,
    ):
        return None
    try:
        horizon = float(scenario_of(save, str(path)).horizon_days)
    except SaveError:
        horizon = math.inf  # its scenario is gone or changed: keep the game anyway
    if save.day >= horizon:
        return None
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in save.scenario_name)
    try:
        return write_save(saves_dir() / f"autosave-{name}.json", save)
    except SaveError:
        return None


def scenario_bytes(source: str) -> bytes:
    """The bytes of a scenario file or built-in scenario (what :func:`load_scenario` reads)."""
    from posim.scenario import builtin_files

    path = Path(source)
    builtins = builtin_files()
    if not path.suffix and not path.exists() and source in builtins:
        return builtins[source].read_bytes()
    return path.read_bytes()


def normalise_source(source: str) -> str:
    """A scenario file's absolute path (so a save loads from any folder); built-ins unchanged."""
    path = Path(source)
    if path.exists():
        return str(path.resolve())
    return source


def load_source(source: str) -> tuple[Scenario, str]:
    """Load a scenario by path or built-in name; return it and its SHA-256.

    Raises :class:`~posim.scenario.ScenarioError` for a bad scenario.
    """
    from posim.scenario import load_scenario

    scenario = load_scenario(source)
    try:
        digest = hashlib.sha256(scenario_bytes(source)).hexdigest()
    except OSError:  # pragma: no cover - it was just read
        digest = ""
    return scenario, digest


def new_simulation(scenario: Scenario, seed: int | None, format: int = SAVE_FORMAT) -> Simulation:
    """A person's game of ``scenario`` played by the rules of save ``format``."""
    from posim.engine.simulation import Simulation

    sim = Simulation(scenario, seed, strategy=None)
    if format >= 2:
        sim.spends_time = True
    return sim


def advance(sim: Simulation, day: float, format: int = SAVE_FORMAT, stop: Any = None) -> bool:
    """Advance a person's game to ``day`` by the rules of save ``format``.

    Format 2 runs every event at ``day`` too and, with ``stop`` (a callable),
    stops at the first moment after which ``stop()`` holds (returns True then);
    format 1 runs until ``day``, before its events, and never stops early.
    """
    if format >= 2:
        return sim.run_through(day, stop)
    sim.run_until(day)
    return False


def from_simulation(
    sim: Simulation, source: str, sha256: str, *, career: bool = False, format: int = SAVE_FORMAT
) -> SavedGame:
    """The save of a live game (``career``: it counts for the player's career)."""
    from posim import __version__

    return SavedGame(
        scenario_name=sim.scenario.name,
        source=source,
        sha256=sha256,
        seed=sim.seed,
        commands=list(sim.commands),
        day=sim.now,
        posim_version=__version__,
        career=career,
        format=format,
        opening=sim.opening,
    )


def to_json(save: SavedGame) -> dict[str, Any]:
    """A save as a JSON-ready dict."""
    document: dict[str, Any] = {
        "posim_save": save.format,
        "posim_version": save.posim_version,
        "scenario": {"name": save.scenario_name, "source": save.source, "sha256": save.sha256},
        "seed": save.seed,
        "day": save.day,
    }
    if save.career:
        document["career"] = True
    if save.format >= 2 and save.opening is not None:
        document["opening"] = save.opening
    document["commands"] = [{"day": day, **cmd.to_json(command)} for day, command in save.commands]
    return document


def write_save(path: str | os.PathLike[str], save: SavedGame) -> Path:
    """Write a save atomically (temporary file, fsync, rename); returns the path.

    Raises :class:`SaveError` when the file cannot be written.
    """
    target = Path(path)
    text = json.dumps(to_json(save), indent=1, allow_nan=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise SaveError(f"{target}: cannot write: {error.strerror or error}") from None
    return target


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_SEED


MAX_SEED = 2**63
"""Seeds (and item ids, ranks, WIP limits) are below this, as in scenario files."""
MAX_DIGITS = 30
"""A whole number longer than this (in digits) is refused while reading (none is needed)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")

_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "reorder": {"item": ("whole", False), "rank": ("whole", False)},
    "commit": {"item": ("whole", False)},
    "accept": {"item": ("whole", False), "rank": ("whole", True)},
    "decline": {"item": ("whole", False)},
    "answer": {"item": ("whole", False)},
    "report": {
        "stakeholder": ("text", False),
        "status": ("text", False),
        "forecast_day": ("number", False),
    },
    "set_wip": {"column": ("text", False), "limit": ("whole", True)},
}
"""Command type -> field -> (kind, may be null): what each command of a save must hold."""
_KINDS = {"whole": "a whole number", "text": "text", "number": "a number"}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _command_problems(entry: dict[str, Any]) -> list[str]:
    """What is wrong with the fields of one command (``field: problem``), type by type."""
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        known = ", ".join(_FIELDS)
        return [f"type: must be one of {known}, not {_shown(kind)}"]
    fields = _FIELDS[kind]
    problems = []
    for name in entry:
        if name not in fields and name not in ("type", "day"):
            problems.append(f"{name}: unknown field for {kind} (fields: {', '.join(fields)})")
    for name, (expected, nullable) in fields.items():
        if name not in entry:
            if not nullable:
                problems.append(f"{name}: missing")
            continue
        value = entry[name]
        if value is None and nullable:
            continue
        ok = (
            _whole(value)
            if expected == "whole"
            else isinstance(value, str) and printable(value) == value and len(value) <= 200
            if expected == "text"
            else _number(value)
        )
        if not ok:
            null = " or null" if nullable else ""
            problems.append(f"{name}: must be {_KINDS[expected]}{null}, not {_shown(value)}")
    return problems


def parse_save(data: Any, where: str) -> SavedGame:
    """Check a decoded save document; raises :class:`SaveError`, one line per problem
    (``where: field: problem``)."""
    from posim.scenario import MAX_HORIZON_DAYS

    def bad(problem: str) -> SaveError:
        return SaveError(f"{where}: {printable(problem)}")

    if not isinstance(data, dict) or "posim_save" not in data:
        raise bad("not a posim save (no posim_save key)")
    version = data["posim_save"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"posim_save must be a format number, not {_shown(version)}")
    if version > SAVE_FORMAT:
        raise bad(
            f"save format {version} is newer than this posim reads ({SAVE_FORMAT}); "
            "upgrade posim to load it"
        )
    problems: list[str] = []
    scenario = data.get("scenario")
    if not isinstance(scenario, dict):
        problems.append("scenario: must be a mapping with name, source and sha256")
        scenario = {"name": "", "source": "", "sha256": ""}
    else:
        for key in ("name", "source", "sha256"):
            value = scenario.get(key)
            if not isinstance(value, str) or printable(value) != value or len(value) > 4096:
                problems.append(f"scenario.{key}: must be a string, not {_shown(value)}")
        sha = scenario.get("sha256")
        if isinstance(sha, str) and not _SHA256.fullmatch(sha):
            problems.append(
                f"scenario.sha256: must be the scenario file's SHA-256 (64 hexadecimal "
                f"digits), not {_shown(sha)}"
            )
    seed = data.get("seed")
    if not _whole(seed) or seed < 0:
        problems.append(f"seed: must be a whole number >= 0 and < 2**63, not {_shown(seed)}")
    day = data.get("day", 0.0)
    if not _number(day) or not 0 <= day <= MAX_HORIZON_DAYS:
        problems.append(
            f"day: must be a number >= 0 and <= {MAX_HORIZON_DAYS:g}, not {_shown(day)}"
        )
    career = data.get("career", False)
    if not isinstance(career, bool):
        problems.append(f"career: must be true or false, not {_shown(career)}")
    raw_commands = data.get("commands", [])
    if not isinstance(raw_commands, list):
        problems.append("commands: must be a list")
        raw_commands = []
    commands: list[tuple[float, cmd.Command]] = []
    last = 0.0
    for index, entry in enumerate(raw_commands):
        if not isinstance(entry, dict):
            problems.append(f"commands.{index}: must be a mapping")
            continue
        when = entry.get("day")
        if not _number(when) or when < last or when > MAX_HORIZON_DAYS:
            problems.append(
                f"commands.{index}.day: must be a number >= the previous command's day "
                f"and <= {MAX_HORIZON_DAYS:g}"
            )
        else:
            last = float(when)
        wrong = _command_problems(entry)
        if wrong:
            problems.extend(f"commands.{index}.{problem}" for problem in wrong)
            continue
        try:
            command = cmd.from_json({k: v for k, v in entry.items() if k != "day"})
        except cmd.CommandError as error:  # pragma: no cover - the checks above come first
            problems.append(f"commands.{index}: {error}")
            continue
        commands.append((last, command))
    opening = data.get("opening")
    if opening is not None and (
        not isinstance(opening, int)
        or isinstance(opening, bool)
        or not 0 <= opening <= len(commands)
    ):
        problems.append(f"opening: must be a whole number from 0 to {len(commands)}")
        opening = None
    if problems:
        raise SaveError("\n".join(f"{where}: {printable(problem)}" for problem in problems))
    version_text = data.get("posim_version", "")
    return SavedGame(
        scenario_name=scenario["name"],
        source=scenario["source"],
        sha256=scenario["sha256"],
        seed=cast(int, seed),  # checked above
        commands=commands,
        day=float(day),
        posim_version=version_text if isinstance(version_text, str) else "",
        career=career,
        format=version,
        opening=opening,
    )


class _HugeNumber:
    """A JSON whole number of more than :data:`MAX_DIGITS` digits, kept unread (Python
    refuses to read more than 4,300 digits; no field of a save needs more than 19)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"a whole number of {self.digits:,} digits"


def _json_int(text: str) -> int | _HugeNumber:
    digits = len(text.lstrip("-"))
    return _HugeNumber(digits) if digits > MAX_DIGITS else int(text)


def read_save(path: str | os.PathLike[str]) -> SavedGame:
    """Read and check a save file; raises :class:`SaveError` with one line per problem."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as stream:
            content = stream.read(MAX_SAVE_BYTES + 1)
    except OSError as error:
        raise SaveError(f"{where}: cannot read: {error.strerror or error}") from None
    if len(content) > MAX_SAVE_BYTES:
        raise SaveError(f"{where}: file too large (at most {MAX_SAVE_BYTES} bytes)")
    try:
        data = json.loads(content.decode("utf-8"), parse_int=_json_int)
    except UnicodeDecodeError:
        raise SaveError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise SaveError(f"{where}:{error.lineno}: not valid JSON: {error.msg}") from None
    except (RecursionError, ValueError):
        raise SaveError(f"{where}: JSON nested too deeply or not readable") from None
    return parse_save(data, where)


def scenario_of(save: SavedGame, where: str = "save") -> Scenario:
    """Load the save's scenario and check it is the one the game was played on.

    Raises :class:`SaveError` when it cannot be loaded or changed since.
    """
    from posim.scenario import ScenarioError

    try:
        scenario, digest = load_source(save.source)
    except ScenarioError as error:
        first = error.problems[0] if error.problems else "cannot load"
        raise SaveError(f"{where}: scenario {save.source!r}: {first}") from None
    if save.sha256 and digest != save.sha256:
        raise SaveError(
            f"{where}: scenario {save.source!r} changed since the game was saved "
            "(its SHA-256 differs); the replay would be a different game"
        )
    return scenario


def restore(save: SavedGame, scenario: Scenario, where: str = "save") -> Simulation:
    """Rebuild the live game from a save: replay its commands, advance to its day.

    Each command is applied right after advancing to its day, exactly as the
    game did (by the rules of the save's format).  Raises :class:`SaveError`
    when a command cannot be applied.
    """
    sim = new_simulation(scenario, save.seed, save.format)
    ran = save.format < 2 or save.opening is not None
    first = len(save.commands) if save.opening is None else save.opening
    for index, (day, command) in enumerate(save.commands):
        if save.format < 2 or index >= first:
            advance(sim, day, save.format)
        try:
            sim.apply(command)
        except cmd.CommandError as error:
            raise SaveError(f"{where}: commands.{index}: {error}") from None
    if ran:
        advance(sim, save.day, save.format)
    return sim


def replay(path: str | os.PathLike[str]) -> tuple[SavedGame, Result]:
    """Read a save and replay it headless to its day; the result the game showed."""
    where = os.fspath(path)
    save = read_save(where)
    scenario = scenario_of(save, where)
    sim = restore(save, scenario, where)
    return save, sim.result()


def replay_document(save: SavedGame, result: Result, version: str) -> dict[str, Any]:
    """The JSON document ``posim replay --json`` prints."""
    score = result.score
    return {
        "posim": version,
        "scenario": result.scenario,
        "seed": result.seed,
        "day": save.day,
        "horizon": result.horizon,
        "commands": len(save.commands),
        "metrics": result.metrics,
        "score": {
            "total": score.total,
            "grade": score.grade,
            "terms": [
                {
                    "name": term.name,
                    "value": term.value,
                    "weight": term.weight,
                    "points": term.points,
                    "explanation": term.explanation,
                }
                for term in score.terms
            ],
        },
    }
