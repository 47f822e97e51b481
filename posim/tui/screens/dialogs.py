"""Small dialogs: each a :class:`ModalScreen` that dismisses with its answer.

* :class:`NumberDialog` — a whole number, or none (accept at a rank, a WIP limit).
* :class:`MessageDialog` — a message with one button (errors, notices).
* :class:`HelpScreen` — the keys and what the game is about.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, Static


class NumberDialog(ModalScreen[int | None]):
    """Ask for a whole number ≥ ``minimum``.

    Dismisses with the number, :attr:`BLANK_ANSWER` for a blank answer (when
    ``blank_allowed``), or None when cancelled.
    """

    BLANK_ANSWER = -1
    """Result for a blank answer (e.g. "no WIP limit", "bottom of the backlog")."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        prompt: str,
        value: int | None = None,
        *,
        minimum: int = 1,
        blank_allowed: bool = True,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.value = value
        self.minimum = minimum
        self.blank_allowed = blank_allowed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.prompt)
            yield Input("" if self.value is None else str(self.value), type="integer", id="number")
            yield Static("", id="number-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the input."""
        self.query_one("#number", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def confirm(self) -> None:
        """Dismiss with the number (or :data:`BLANK`), or say what is wrong."""
        text = self.query_one("#number", Input).value.strip()
        if not text and self.blank_allowed:
            self.dismiss(self.BLANK_ANSWER)
            return
        try:
            number = int(text)
        except ValueError:
            number = self.minimum - 1
        if number < self.minimum:
            self.query_one("#number-error", Static).update(
                f"Give a whole number ≥ {self.minimum}"
                + (" (or leave it blank)." if self.blank_allowed else ".")
            )
            return
        self.dismiss(number)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Dismiss with None."""
        self.dismiss(None)


class MessageDialog(ModalScreen[None]):
    """A message and an OK button."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.message, id="message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")

    @on(Button.Pressed, "#ok")
    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)


HELP_TEXT = """\
# How to play

You are the **product owner**. The team pulls work from *Ready* through the
work columns to *Done*; you decide **what comes next** by ordering the
backlog. The top of the backlog is committed to Ready whenever it has room.

| key | action |
|---|---|
| ← → / Tab | move between lanes and panels |
| ↑ ↓ | select a card |
| Shift+↑ / Shift+↓ (or `K` / `J`) | move the selected backlog item up / down |
| `t` | move it to the top |
| `c` | commit it to Ready now |
| `w` | change the WIP limit of the selected lane |
| `a` / `d` | accept (at a rank) / decline the selected request in the inbox |
| `n` | answer the selected team question |
| `r` | report status and a forecast day to the stakeholders |
| Space | pause / resume the clock |
| `1` `2` `5` | run at 1×, 2×, 5× |
| `.` | advance one day |
| `p` | auto-pause on new requests, questions and reviews: on / off |
| `g` | board / charts tab |
| `l` | the *Today* log: every arrival, decision, delivery, blocker, question, absence, review and trust change, with its cause |
| `e` | the *Team* tab: who works on what, who is idle and why; the sprint; your time |
| `x` | skip the coach's step (the tutorial's guided first game) |
| `s` | save the game |
| `m` | menu: new game, continue, career (the game is autosaved) |
| Ctrl+P | every command |
| Ctrl+Q | save and quit |

**Cards.** The top line is `#id title`. In the backlog, Ready and the inbox
the second line reads `STD val 1.2k cod 20/d est 5.0d`: the class of service,
the value delivered when done, the **cost of delay per day** the item waits,
and the **estimate** in days of work; order by cost of delay ÷ estimate. On
the work columns it shows the days since the item started, ✖ a block, ✓ work
finished here and who works on it. `⧗` marks a decision waiting for your time.

| badge | class of service |
|---|---|
| `EXP` | expedite: goes first and may exceed a WIP limit by one |
| `DATE` | fixed date: due on the day shown (`d25`); worth less when late |
| `STD` | standard: ordered by you |
| `INT` | intangible: no cost of delay today (upgrades, clean-up), a risk later |

A lane's footer counts its items against its WIP limit (`3/3`: full).

**Your time.** Where the scenario gives the product owner a daily budget,
accepting, declining, answering and reporting take your hours as they would
a scripted PO's: the decision waits (`⧗`) until you get to it. The clock bar
shows the hours left today.

**Lessons**: order by cost of delay, not by who shouts; limit work in
progress; plan with ranges (the forecast helper shows the Monte Carlo 50/85/95 %
days); tell bad news early; answer the team's questions quickly.
"""
"""The help screen's text (Markdown)."""


class HelpScreen(ModalScreen[None]):
    """The keys and the point of the game."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help"):
            yield Markdown(HELP_TEXT)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", variant="primary", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
