"""Serve the game to web browsers for a workshop (``posim serve``).

Every browser tab that connects gets its own ``posim play`` process, spoken
to over a websocket in Textual's web-driver protocol; textual-serve (the
``web`` extra) provides the page, its JavaScript and its fonts.  What a room
full of players needs, one idea per module:

- :mod:`~posim.serve.addresses`: where the server is reached, and which
  pages may open a game (the ``Origin`` check).
- :mod:`~posim.serve.page`: the game's page without any outside reference
  (no internet needed) and short notices ("the room is full").
- :mod:`~posim.serve.protocol`: what a tab and a game say, read
  defensively; terminal sizes clamped.
- :mod:`~posim.serve.processes`: one process group and data folder per
  game; ending a game always kills its group and removes its folder.
- :mod:`~posim.serve.connection`: one tab's game, with deadlines on every
  send, so a tab that stalls or vanishes cannot keep a game alive.
- :mod:`~posim.serve.server`: the routes, the cap on games, the stop.

The server binds to loopback (:data:`DEFAULT_HOST`) unless told otherwise.
textual-serve and aiohttp are imported only when a server is created, so the
rest of posim works without the ``web`` extra.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from posim.serve.addresses import (
    ALL_INTERFACES,
    DEFAULT_HOST,
    DEFAULT_PORT,
    origin_allowed,
    public_base_url,
    reach_urls,
)
from posim.serve.page import TITLE, game_command, offline_page
from posim.serve.processes import (
    HOME_ENV,
    KILL_GRACE_SECONDS,
    QUIT_GRACE_SECONDS,
    Session,
    Sessions,
    group_alive,
    kill_group,
    parent_death_signal,
)
from posim.serve.protocol import MAX_COLUMNS, MAX_ROWS, clamp_size
from posim.serve.server import DEFAULT_MAX_PLAYERS, GameServer, ServeError

__all__ = [
    "ALL_INTERFACES",
    "DEFAULT_HOST",
    "DEFAULT_MAX_PLAYERS",
    "DEFAULT_PORT",
    "HOME_ENV",
    "KILL_GRACE_SECONDS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "QUIT_GRACE_SECONDS",
    "TITLE",
    "GameServer",
    "ServeError",
    "Session",
    "Sessions",
    "clamp_size",
    "game_command",
    "group_alive",
    "kill_group",
    "offline_page",
    "origin_allowed",
    "parent_death_signal",
    "public_base_url",
    "reach_urls",
    "serve_game",
]


def serve_game(
    scenario: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
    command: Sequence[str] | None = None,
    max_players: int = DEFAULT_MAX_PLAYERS,
    room: bool = False,
    seed: int | str | None = None,
) -> None:
    """Serve ``posim play [SCENARIO]`` until Ctrl+C; every game is stopped on the way out.

    ``command`` replaces the game command (default: :func:`game_command`).
    ``room`` hosts a workshop room (:mod:`posim.serve.room`) of ``scenario``
    with ``seed`` (an int, ``"random"`` or None for the scenario's).
    Raises :class:`ServeError` when the server cannot start (no ``web``
    extra, the port is taken, the host is not an address of this machine).
    """
    import asyncio

    root = Path(tempfile.mkdtemp(prefix="posim-serve-"))
    sessions = Sessions(game_command(scenario) if command is None else list(command), root)
    mode = None
    try:
        if room:
            from posim import saves
            from posim.serve.room import Room

            if scenario is None:
                raise ServeError("--room needs a scenario: posim serve SCENARIO --room")
            mode = Room(scenario, seed, saves.data_dir())
        server = GameServer(sessions, host, port, public_url, max_players, mode=mode)
        asyncio.run(server.run())
    except OSError as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    finally:
        sessions.stop_all()
        shutil.rmtree(root, ignore_errors=True)
        if mode is not None and not mode.players:
            shutil.rmtree(mode.folder, ignore_errors=True)  # nobody joined: nothing to keep
