"""Game processes: each in its own process group, with its own data folder.

A game is ``posim play`` run as a command, never imported: the server holds
no game logic.  Every game leads a new process group (``start_new_session``),
so ending it ends whatever it started too (``os.killpg``), and gets SIGTERM
from the kernel if the server dies (Linux ``PR_SET_PDEATHSIG``).
:meth:`Sessions.end` is the one way a game ends: it waits a grace period,
kills the group, waits for the process, closes its pipes and removes its data
folder (unless the folder is kept: a workshop room's player folder).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio.subprocess import Process

HOME_ENV = "POSIM_HOME"
"""The environment variable that sets a game's data folder (saves, career)."""

QUIT_GRACE_SECONDS = 5.0
"""How long a game may take to quit after its tab closed before its group is killed."""

KILL_GRACE_SECONDS = 2.0
"""How long a process group has between SIGTERM and SIGKILL."""

ERRORS_NAME = "game-errors.log"
"""The file in a game's data folder that receives its standard error."""


def group_alive(pgid: int) -> bool:
    """Whether any process (other than a zombie) is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(in_group(pid, pgid) for pid in pids())


def pids() -> Iterable[int]:
    """Every process id on this machine (Linux ``/proc``)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    return (int(entry) for entry in entries if entry.isdigit())


def in_group(pid: int, pgid: int) -> bool:
    """Whether ``pid`` is a live (non-zombie) member of process group ``pgid``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid


def kill_group(pgid: int, grace: float = KILL_GRACE_SECONDS) -> None:
    """Stop every process of group ``pgid``: SIGTERM, then SIGKILL after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when its parent dies."""


def parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a game get SIGTERM when the server dies (Linux; else None).

    The C function is looked up here, in the server, so the child only calls it
    between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    terminate = int(signal.SIGTERM)

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, terminate)

    return die_with_parent


@dataclass
class Session:
    """One browser tab's game: its process (a group leader) and its data folder."""

    process: Process
    """The game process; its pid is also its process group id."""
    home: Path
    """The game's ``POSIM_HOME``."""
    keep_home: bool = False
    """Keep the data folder when the game ends (a room's player folder)."""
    errors: IO[bytes] | None = None
    """The game's standard error file (closed when the game ends)."""

    @property
    def pgid(self) -> int:
        """The game's process group id (the game started a new session)."""
        return self.process.pid


@dataclass
class Sessions:
    """Starts and stops the games of one server, every one in its own group and folder."""

    command: Sequence[str]
    """The game command (see :func:`posim.serve.page.game_command`)."""
    root: Path
    """The folder that holds every temporary game's data folder."""
    live: dict[int, Session] = field(default_factory=dict)
    """The games started and not yet ended, by process group id."""

    async def start(
        self,
        environment: Mapping[str, str],
        *,
        home: Path | None = None,
        command: Sequence[str] | None = None,
    ) -> Session:
        """Start a game with ``environment`` plus its ``POSIM_HOME``, in a new session.

        ``home`` (kept when the game ends) replaces a fresh temporary folder;
        ``command`` replaces :attr:`command` for this game.
        """
        keep = home is not None
        if home is None:
            home = Path(tempfile.mkdtemp(prefix="session-", dir=self.root))
        else:
            home.mkdir(parents=True, exist_ok=True)
        errors = (home / ERRORS_NAME).open("ab")
        try:
            process = await asyncio.create_subprocess_exec(
                *(command or self.command),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
                env={**environment, HOME_ENV: str(home)},
                start_new_session=True,
                preexec_fn=parent_death_signal(),
            )
        except BaseException:
            errors.close()
            if not keep:
                shutil.rmtree(home, ignore_errors=True)
            raise
        session = Session(process, home, keep, errors)
        self.live[session.pgid] = session
        return session

    async def end(self, session: Session, grace: float = QUIT_GRACE_SECONDS) -> None:
        """Wait up to ``grace`` seconds for a game to exit, then kill its group; drop its folder.

        Its output is read and dropped meanwhile, so a game blocked writing to
        a tab that stopped reading can still save and quit.  Cancelling this
        coroutine does not stop the clean-up (it runs shielded).
        """
        await asyncio.shield(self._end(session, grace))

    async def _end(self, session: Session, grace: float) -> None:
        process = session.process
        drain = asyncio.create_task(_discard(process.stdout))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), grace)
            if group_alive(session.pgid):
                await asyncio.to_thread(kill_group, session.pgid)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(drain, 2)  # EOF follows the death of the group
        finally:
            drain.cancel()
            _close_pipes(process)
            if session.errors is not None:
                session.errors.close()
            self.live.pop(session.pgid, None)
            if not session.keep_home:
                shutil.rmtree(session.home, ignore_errors=True)

    def stop_all(self) -> None:
        """Kill every game's process group at once (last resort at exit); drop temporary folders."""
        sessions = list(self.live.values())
        for session in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session.pgid, signal.SIGTERM)
        for session in sessions:
            kill_group(session.pgid)
            if session.errors is not None:
                session.errors.close()
            if not session.keep_home:
                shutil.rmtree(session.home, ignore_errors=True)
        self.live.clear()


async def _discard(stream: asyncio.StreamReader | None) -> None:
    """Read ``stream`` to its end, dropping what it says."""
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        while await stream.read(1 << 16):
            pass


def _close_pipes(process: Process) -> None:
    """Close a finished game's pipes now, inside the event loop (not at garbage collection)."""
    if process.stdin is not None:
        with contextlib.suppress(Exception):
            process.stdin.close()
    transport = getattr(process, "_transport", None)
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.close()
