"""A game's side of a workshop room (``posim serve --room``): its status file.

The server starts each player's game with :data:`STATUS_ENV` naming a file
in the player's folder.  :func:`attach` (one call from the app) makes the
game write that file whenever its day, clock or end changes: the player's
name, seed, day, score so far, grade, trust and every metric, as JSON,
written atomically (a temporary file renamed), so the trainer's page never
reads half a file.  :func:`in_room` tells the game to keep the player on the
room's scenario: no title menu, no new game, no retry.  Outside a room
nothing here does anything.  :func:`save_on_exit` (one call from the app
as it ends) saves the game when its tab closes, so a reload continues with
every decision made.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

STATUS_ENV = "POSIM_ROOM_STATUS"
"""The environment variable naming the status file (set only in a room)."""

PLAYER_ENV = "POSIM_ROOM_PLAYER"
"""The player's display name in the room."""

CHECK_SECONDS = 0.5
"""How often the game looks for a change worth writing."""

LOCKED_MESSAGE = "In a workshop room everyone plays the room's scenario: no new game or menu."
"""What the game says when the player asks for something a room turns off."""


def in_room() -> bool:
    """Whether this game runs in a workshop room."""
    return bool(os.environ.get(STATUS_ENV))


def status_of(game: Any, name: str = "") -> dict[str, Any]:
    """What the trainer sees of a game (a :class:`posim.tui.game.Game`) now."""
    result = game.result()
    metrics = {
        key: (None if isinstance(value, float) and not math.isfinite(value) else value)
        for key, value in result.metrics.items()
    }
    return {
        "name": name,
        "scenario": game.scenario.name,
        "seed": game.seed,
        "day": round(float(game.now), 3),
        "horizon": float(game.scenario.horizon_days),
        "clock": "paused" if game.paused else "running",
        "finished": bool(game.finished),
        "score": float(result.score.total),
        "grade": result.score.grade,
        "trust": metrics.get("trust_mean"),
        "metrics": metrics,
        "written": time.time(),
    }


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Write ``status`` to ``path`` atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(status, indent=1), encoding="utf-8")
    os.replace(temporary, path)


class StatusWriter:
    """Writes a game's status file when its whole day, clock or end changes."""

    def __init__(self, path: Path, name: str = "") -> None:
        self.path = path
        self.name = name
        self.last: tuple[Any, ...] | None = None

    def update(self, game: Any) -> bool:
        """Write the status if something the trainer sees changed; whether it wrote."""
        if game is None:
            return False
        key = (math.floor(game.now + 1e-9), game.paused, game.finished, id(game))
        if key == self.last:
            return False
        try:
            write_status(self.path, status_of(game, self.name))
        except OSError:
            return False
        self.last = key
        return True


def save_on_exit(app: Any) -> None:
    """In a room, autosave the game as the app ends (its tab closed): a reload continues here."""
    game = getattr(app, "game", None)
    if in_room() and game is not None:
        game.autosave()


def attach(app: Any) -> StatusWriter | None:
    """In a room, make ``app`` (the game's Textual app) keep its status file current."""
    where = os.environ.get(STATUS_ENV)
    if not where:
        return None
    writer = StatusWriter(Path(where), os.environ.get(PLAYER_ENV, ""))
    app.set_interval(CHECK_SECONDS, lambda: writer.update(getattr(app, "game", None)))
    return writer
