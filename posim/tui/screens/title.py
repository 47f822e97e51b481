"""The title screen and the scenario picker.

The menu posts its choice up; the app starts the game (the screen never
builds a simulation itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

BANNER = """\
 ___  ___  ___ ___ __  __
| _ \\/ _ \\/ __|_ _|  \\/  |
|  _/ (_) \\__ \\| || |\\/| |
|_|  \\___/|___/___|_|  |_|"""


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario as the picker lists it."""

    name: str
    title: str
    level: str
    description: str
    lesson: str = ""


class TitleScreen(Screen[None]):
    """New game, continue, career, quit."""

    BINDINGS = [Binding("question_mark", "app.help", "Help")]

    class Chosen(Message):
        """The player chose a menu entry (``tutorial``, ``new``, ``continue``, ``load``, ``career``, ``quit``)."""

        def __init__(self, choice: str) -> None:
            super().__init__()
            self.choice = choice

    def __init__(self, autosave_day: float | None, career: bool) -> None:
        super().__init__()
        self.autosave_day = autosave_day
        """The day the autosave reached (None: no autosave)."""
        self.career = career
        """Whether the career module exists."""

    def compose(self) -> ComposeResult:
        with Vertical(id="title"):
            yield Static(BANNER, id="banner")
            yield Label("The product-owner simulator: you order the backlog.", id="tagline")
            keep = (
                f"Continue (autosave, day {self.autosave_day:.1f})"
                if self.autosave_day is not None
                else "Continue (no autosave yet)"
            )
            career = "Career" if self.career else "Career (coming with the scenario library)"
            yield OptionList(
                Option("Play the tutorial", id="tutorial"),
                Option("New game: pick a scenario…", id="new"),
                Option(keep, id="continue", disabled=self.autosave_day is None),
                Option("Load a saved game…", id="load"),
                Option(career, id="career", disabled=not self.career),
                Option("Quit", id="quit"),
                id="menu",
            )
        yield Footer()

    def on_mount(self) -> None:
        """Focus the menu."""
        menu = self.query_one("#menu", OptionList)
        menu.focus()
        menu.highlighted = 0

    @on(OptionList.OptionSelected, "#menu")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        """Post the choice up to the app."""
        self.post_message(self.Chosen(event.option.id or ""))


class ScenarioPicker(ModalScreen[str | None]):
    """Pick a built-in scenario: its level, description and lesson beside the list."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(self, scenarios: list[ScenarioInfo]) -> None:
        super().__init__()
        self.scenarios = scenarios

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="picker"):
            yield Label("Pick a scenario", classes="dialog-title")
            with Horizontal():
                yield OptionList(
                    *(Option(f"{s.title} [{s.level}]", id=s.name) for s in self.scenarios),
                    id="scenario-list",
                )
                yield Static(id="scenario-about")

    def on_mount(self) -> None:
        """Focus the list and describe the first scenario."""
        listing = self.query_one("#scenario-list", OptionList)
        listing.focus()
        if self.scenarios:
            listing.highlighted = 0
            self.describe(0)

    @on(OptionList.OptionHighlighted)
    def highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Describe the highlighted scenario."""
        self.describe(event.option_index)

    def describe(self, index: int) -> None:
        """Show a scenario's level, description and lesson."""
        info = self.scenarios[index]
        lesson = f"\n\n[b]Lesson[/b]: {info.lesson}" if info.lesson else ""
        self.query_one("#scenario-about", Static).update(
            f"[b]{info.title}[/b] · level {info.level}\n\n{info.description}{lesson}"
        )

    @on(OptionList.OptionSelected)
    def selected(self, event: OptionList.OptionSelected) -> None:
        """Dismiss with the scenario's name."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Back to the title screen."""
        self.dismiss(None)


@dataclass(frozen=True)
class CareerRow:
    """A career scenario as the career screen lists it."""

    level: str
    name: str
    title: str
    status: str
    """``locked``, ``unlocked`` or ``passed``."""
    best: str
    """Best grade and score, or an empty string."""


class CareerScreen(ModalScreen[str | None]):
    """The career ladder: junior to senior; open scenarios can be played."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(self, rows: list[CareerRow], level: str, notice: str | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.level = level
        self.notice = notice

    def compose(self) -> ComposeResult:
        marks = {"passed": "✓", "unlocked": "▶", "locked": "🔒"}
        with Vertical(classes="dialog", id="career"):
            yield Label(f"Career: you are a {self.level} product owner", classes="dialog-title")
            if self.notice:
                yield Static(self.notice, classes="error")
            yield OptionList(
                *(
                    Option(
                        f"{marks.get(row.status, ' ')} [{row.level}] {row.title}"
                        + (f" · best {row.best}" if row.best else ""),
                        id=row.name,
                        disabled=row.status == "locked",
                    )
                    for row in self.rows
                ),
                id="career-list",
            )
            yield Static("Pass a scenario (grade B or better, not let go) to open the next.")

    def on_mount(self) -> None:
        """Focus the list on the first open scenario."""
        listing = self.query_one("#career-list", OptionList)
        listing.focus()
        for index, row in enumerate(self.rows):
            if row.status == "unlocked":
                listing.highlighted = index
                break

    @on(OptionList.OptionSelected)
    def selected(self, event: OptionList.OptionSelected) -> None:
        """Dismiss with the scenario's name."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Back to the title screen."""
        self.dismiss(None)


@dataclass(frozen=True)
class SaveInfo:
    """A save file as the load screen lists it."""

    path: str
    label: str
    """E.g. ``tutorial-day012.json · tutorial · day 12.0``; the problem for a bad file."""
    readable: bool


class LoadScreen(ModalScreen[str | None]):
    """Pick a saved game to continue."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(self, saves: list[SaveInfo], folder: str) -> None:
        super().__init__()
        self.saves = saves
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="load"):
            yield Label("Load a saved game", classes="dialog-title")
            if self.saves:
                yield OptionList(
                    *(
                        Option(info.label, id=f"save-{index}", disabled=not info.readable)
                        for index, info in enumerate(self.saves)
                    ),
                    id="save-list",
                )
            else:
                yield Static(f"No saves yet in {self.folder} (press s during a game).")

    def on_mount(self) -> None:
        """Focus the list."""
        for listing in self.query("#save-list").results(OptionList):
            listing.focus()

    @on(OptionList.OptionSelected)
    def selected(self, event: OptionList.OptionSelected) -> None:
        """Dismiss with the save's path."""
        index = int((event.option.id or "save-0").rsplit("-", 1)[1])
        self.dismiss(self.saves[index].path)

    def action_cancel(self) -> None:
        """Back to the title screen."""
        self.dismiss(None)
