"""The posim game app, and :func:`build_app`, the one factory the CLI and the tests use.

Kept small: the app starts games (new, continued, loaded), routes the title
screen's choices, autosaves on quit and lists every action in the command
palette.  The board lives in :mod:`posim.tui.screens.board`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from posim import room_status, saves
from posim.tui.game import Game
from posim.tui.messages import NewGameRequested
from posim.tui.screens.board import BoardScreen
from posim.tui.screens.dialogs import HelpScreen
from posim.tui.screens.title import (
    CareerRow,
    CareerScreen,
    LoadScreen,
    SaveInfo,
    ScenarioInfo,
    ScenarioPicker,
    TitleScreen,
)


class PosimApp(App[None]):
    """posim: play the product owner."""

    CSS_PATH = "posim.tcss"
    TITLE = "posim"
    BINDINGS = [Binding("ctrl+q", "quit", "Save & quit", priority=True)]

    def __init__(self, game: Game | None = None, *, autosave: bool = True) -> None:
        super().__init__()
        self.game = game
        """The game being played (None on the title screen)."""
        self.autosave = autosave
        """Whether games autosave to the user data folder."""
        self.allow_new_games = not room_status.in_room()
        """Whether the debrief offers retry, "another week" and a new game (off in a room)."""
        self.debrief_runs = 30
        """Other seeds the debrief runs every ordering on (``posim.debrief.DEFAULT_RUNS``)."""

    def on_mount(self) -> None:
        """Start on the board when a game was given, else on the title screen."""
        room_status.attach(self)  # in a workshop room: keep the status file current
        if self.game is not None:
            self.push_screen(BoardScreen(self.game))
        else:
            self.push_screen(self.title_screen())

    def on_unmount(self) -> None:
        """In a workshop room, save as the app ends (the tab closed): a reload continues here."""
        room_status.save_on_exit(self)

    # -- starting games ------------------------------------------------

    def autosave_path(self) -> Path | None:
        """Where games autosave (None when autosave is off)."""
        return saves.autosave_path() if self.autosave else None

    def title_screen(self) -> TitleScreen:
        """A title screen showing whether there is an autosave to continue."""
        day = None
        path = saves.autosave_path()
        if path.exists():
            try:
                day = saves.read_save(path).day
            except saves.SaveError:
                day = None
        return TitleScreen(day, career=importlib.util.find_spec("posim.career") is not None)

    def start(self, game: Game) -> None:
        """Replace the current screen (and any under it but the first) with the board of ``game``."""
        self.game = game
        while len(self.screen_stack) > 2:  # e.g. a retry from the debrief above the last board
            self.pop_screen()
        self.switch_screen(BoardScreen(game))

    def start_new(self, source: str, *, career: bool = False, seed: int | None = None) -> None:
        """Start a new game of a scenario, on ``seed`` or its own (errors are notified)."""
        from posim.scenario import ScenarioError

        try:
            game = Game.new(source, seed, autosave_to=self.autosave_path())
        except (ScenarioError, OSError) as error:
            self.notify(str(error), title="Cannot start", severity="error")
            return
        game.career = game.career or career
        self.start(game)

    def new_game(self) -> None:
        """Leave the current game for the title screen."""
        if room_status.in_room():
            self.notify(room_status.LOCKED_MESSAGE, title="Workshop room")
            return
        if self.game is not None:
            self.game.autosave()
        self.game = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(self.title_screen())

    @on(NewGameRequested)
    def new_game_requested(self, event: NewGameRequested) -> None:
        """A screen asked to leave the game for the title screen."""
        self.new_game()

    @on(TitleScreen.Chosen)
    def title_choice(self, event: TitleScreen.Chosen) -> None:
        """Act on the title screen's menu."""
        if event.choice == "tutorial":
            self.start_new("tutorial")
        elif event.choice == "new":
            self.push_screen(ScenarioPicker(self.scenario_infos()), self.picked)
        elif event.choice == "continue":
            self.load(str(saves.autosave_path()))
        elif event.choice == "load":
            self.push_screen(LoadScreen(self.save_infos(), str(saves.saves_dir())), self.load)
        elif event.choice == "career":
            self.open_career()
        elif event.choice == "quit":
            self.exit()

    def open_career(self) -> None:
        """Show the career ladder; an open scenario starts a career game."""
        from posim import career

        try:
            profile = career.load_profile()
        except career.ProfileError as error:
            self.notify(str(error), title="Career", severity="error")
            return
        rows = [
            CareerRow(
                row["level"],
                row["scenario"],
                row["title"],
                row["status"],
                f"{row['best_grade']} ({row['best_score']:.1f})" if row["best_grade"] else "",
            )
            for row in career.progress(profile)
        ]

        def chosen(name: str | None) -> None:
            if name:
                self.start_new(name, career=True)

        self.push_screen(CareerScreen(rows, career.current_level(profile), profile.notice), chosen)

    @staticmethod
    def save_infos() -> list[SaveInfo]:
        """The saves folder's files, newest first, each with its scenario and day."""
        folder = saves.saves_dir()
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        infos = []
        for path in files:
            try:
                save = saves.read_save(path)
            except saves.SaveError as error:
                infos.append(SaveInfo(str(path), str(error), False))
                continue
            label = f"{path.name} · {save.scenario_name} · day {save.day:.1f}"
            infos.append(SaveInfo(str(path), label, True))
        return infos

    def load(self, path: str | None) -> None:
        """Continue the saved game at ``path`` (errors are notified)."""
        if not path:
            return
        try:
            game = Game.load(path, autosave_to=self.autosave_path())
        except saves.SaveError as error:
            self.notify(str(error), title="Cannot load", severity="error")
            return
        self.start(game)

    def picked(self, name: str | None) -> None:
        """Start the scenario picked in the picker."""
        if name:
            self.start_new(name)

    @staticmethod
    def scenario_infos() -> list[ScenarioInfo]:
        """The built-in scenarios for the picker, with their lessons."""
        from posim.scenario import builtin_scenarios, load_scenario

        infos = []
        for entry in builtin_scenarios():
            lesson = load_scenario(entry["name"]).lesson
            infos.append(
                ScenarioInfo(
                    entry["name"], entry["title"], entry["level"], entry["description"], lesson
                )
            )
        return infos

    # -- app-wide actions ----------------------------------------------

    async def action_quit(self) -> None:
        """Autosave the game (if any) and quit with status 0."""
        if self.game is not None:
            self.game.autosave()
        self.exit(return_code=0)

    def action_help(self) -> None:
        """Show the help."""
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: the built-in commands plus every action of the screen."""
        yield from super().get_system_commands(screen)
        for binding in getattr(screen, "BINDINGS", []):
            if not isinstance(binding, Binding) or binding.action.startswith("app."):
                continue
            yield SystemCommand(
                binding.description,
                f"{binding.description} (key {binding.key.split(',')[0]})",
                partial(screen.run_action, binding.action),
            )


def build_app(
    scenario: str | None = None,
    *,
    load: str | Path | None = None,
    seed: int | None = None,
    autosave: bool = True,
) -> PosimApp:
    """Build the game: a saved game (``load``), a new game of ``scenario``, or the title screen.

    A ``seed`` with no scenario starts the tutorial with that seed.

    Raises :class:`~posim.saves.SaveError` or :class:`~posim.scenario.ScenarioError`
    before any terminal is touched, so the CLI can print one line and exit 2.
    """
    target = saves.autosave_path() if autosave else None
    game: Game | None = None
    if load is not None:
        game = Game.load(load, autosave_to=target)
    elif scenario is not None or seed is not None:
        game = Game.new(scenario or "tutorial", seed, autosave_to=target)
    return PosimApp(game, autosave=autosave)
