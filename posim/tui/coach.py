"""The coach of a guided first game: one step at a time, each waiting for the player.

Plain Python (no Textual): the board asks :meth:`Coach.update` after every
change and shows :meth:`Coach.text`.  Each :class:`Step` reads the game's
state: whether its moment has come (a question is waiting, a review is due, a
request landed) and whether the player did it (from the commands given), so
the coach follows the game whatever order things happen in, and a step the
player does before being told is simply ticked off.  Any step can be skipped
(``x`` on the board).

The tutorial is coached (:data:`COACHED`): order the backlog by cost of delay
÷ size, run the clock, answer the team's question, send the first status
report, accept or decline a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from posim.engine import commands as cmd
from posim.engine.items import ItemView
from posim.tui.game import Game

COACHED = ("tutorial",)
"""Scenarios whose games are coached."""


def per_day_of_work(item: ItemView) -> float:
    """Cost of delay per day of estimated work (WSJF): what to order the backlog by."""
    return item.cost_of_delay / max(item.estimate_total, 1e-9)


def best_in_backlog(game: Game) -> ItemView | None:
    """The backlog item with the highest cost of delay ÷ size (first on ties)."""
    backlog = game.snapshot().backlog
    if not backlog:
        return None
    return max(backlog, key=per_day_of_work)


def _given(game: Game, *kinds: type) -> bool:
    """Whether the player gave a command of one of ``kinds``."""
    return any(isinstance(command, kinds) for _, command in game.sim.commands)


@dataclass(frozen=True)
class Step:
    """One step of the guided game."""

    key: str
    """A short name (``order``, ``run``, ``question``, ``report``, ``request``)."""
    title: str
    """What the step teaches, in a few words."""
    ready: Callable[[Game], bool]
    """Whether its moment has come (the thing to act on is there)."""
    done: Callable[[Game], bool]
    """Whether the player did it."""
    tell: Callable[[Game], str]
    """What to do, once ready."""
    wait: Callable[[Game], str]
    """What to do while its moment has not come."""


def _order_text(game: Game) -> str:
    best = best_in_backlog(game)
    if best is None:  # pragma: no cover - the tutorial starts with a backlog
        return "The backlog is empty."
    return (
        f"Order by cost of delay ÷ size. #{best.id} {best.title} costs "
        f"{best.cost_of_delay:.0f}/day for {best.estimate_total:.1f} days of work "
        f"({per_day_of_work(best):.1f} per day of work, the most). Select it (↑ ↓) and press t "
        "to move it to the top: the team pulls from the top."
    )


def _order_done(game: Game) -> bool:
    if not _given(game, cmd.Reorder):
        return False
    backlog = game.snapshot().backlog
    best = best_in_backlog(game)
    return best is None or backlog[0].id == best.id


def _question_text(game: Game) -> str:
    questions = game.snapshot().questions
    ref = f"#{questions[0].id}" if questions else "an item"
    return (
        f"The team has a question about {ref}: it stands still until you answer. "
        "Press n to answer (every day it waits is a day lost)."
    )


def _request_text(game: Game) -> str:
    inbox = game.snapshot().inbox
    if not inbox:  # pragma: no cover - ready only with a request
        return ""
    item = inbox[0]
    best = best_in_backlog(game)
    compare = f" The backlog's best is {per_day_of_work(best):.1f} per day of work." if best else ""
    return (
        f"{item.requester} asks for #{item.id} {item.title}: cost of delay "
        f"{item.cost_of_delay:.0f}/day for {item.estimate_total:.1f} days "
        f"({per_day_of_work(item):.1f} per day of work).{compare} Press a to accept "
        "(then a rank; blank = the bottom) or d to decline (it costs a little trust)."
    )


STEPS: tuple[Step, ...] = (
    Step(
        "order",
        "order the backlog",
        lambda game: bool(game.snapshot().backlog),
        _order_done,
        _order_text,
        lambda game: "",
    ),
    Step(
        "run",
        "run the clock",
        lambda game: True,
        lambda game: game.now > 0,
        lambda game: (
            "Run the clock: Space runs and pauses it (. = one day). It pauses by itself "
            "when a request, a question or a review arrives."
        ),
        lambda game: "",
    ),
    Step(
        "question",
        "answer a question",
        lambda game: bool(game.snapshot().questions),
        lambda game: _given(game, cmd.Answer),
        _question_text,
        lambda game: "Let the clock run (Space): the team will soon have a question for you.",
    ),
    Step(
        "report",
        "the first status report",
        lambda game: bool(game.reviews_due()),
        lambda game: _given(game, cmd.Report),
        lambda game: (
            "A review is due: tell each stakeholder a status and a day (r opens the report). "
            "The day starts at the 85 % forecast; an honest 'at risk' now beats a surprise later. "
            "Send it."
        ),
        lambda game: (
            "Let the clock run: the first review (a status report) is due on day "
            f"{game.snapshot().next_review or game.scenario.horizon_days:g}."
        ),
    ),
    Step(
        "request",
        "accept or decline a request",
        lambda game: bool(game.snapshot().inbox),
        lambda game: _given(game, cmd.Accept, cmd.Decline),
        _request_text,
        lambda game: "Let the clock run: a stakeholder will send a request soon.",
    ),
)
"""The tutorial's steps, in order."""


class Coach:
    """Which step the player is on; what to tell them."""

    def __init__(self, steps: tuple[Step, ...] = STEPS) -> None:
        self.steps = steps
        self.passed: set[str] = set()
        """Steps done or skipped."""
        self.skipped: set[str] = set()
        """Steps the player skipped."""

    @classmethod
    def for_game(cls, game: Game) -> Coach | None:
        """A coach for a coached scenario's game (None for the others)."""
        return cls() if game.scenario.name in COACHED else None

    @property
    def current(self) -> Step | None:
        """The first step not passed (None: the guided part is over)."""
        return next((s for s in self.steps if s.key not in self.passed), None)

    @property
    def number(self) -> int:
        """The current step's number, from 1."""
        step = self.current
        return len(self.steps) + 1 if step is None else self.steps.index(step) + 1

    def update(self, game: Game) -> bool:
        """Tick off what the player did; True when the current step changed."""
        before = self.current
        for step in self.steps:
            if step.key not in self.passed and step.done(game):
                self.passed.add(step.key)
        return self.current is not before

    def skip(self) -> Step | None:
        """Skip the current step; returns it (None: nothing left)."""
        step = self.current
        if step is not None:
            self.passed.add(step.key)
            self.skipped.add(step.key)
        return step

    def text(self, game: Game) -> str:
        """``Coach 2/5: Run the clock ...`` (or the closing words)."""
        step = self.current
        total = len(self.steps)
        if step is None:
            return (
                f"Coach {total}/{total} done. You are on your own: l shows the day's log "
                "(every trust change and why), e the team, g the charts. x hides this."
            )
        what = step.tell(game) if step.ready(game) else step.wait(game)
        return f"Coach {self.number}/{total}: {what} (x skips)"
