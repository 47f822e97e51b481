"""The game's state outside the widgets: a live simulation, its clock and its saves.

:class:`Game` is plain Python (no Textual): the board screen drives it from a
timer and turns the player's messages into its methods.  It advances the
engine in small steps, applies commands only between advances (so the save
replays exactly), reports what happened during a step (new requests,
questions, reviews, the horizon) and autosaves after every simulated day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim import saves
from posim.engine import commands as cmd
from posim.engine import journal
from posim.engine.items import ItemView
from posim.engine.simulation import Simulation, Snapshot

if TYPE_CHECKING:
    from posim.scenario import Scenario

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri")
"""Day 0 is a Monday; a week has five working days."""

SPEEDS = (0, 1, 2, 5)
"""Clock speeds: paused, 1x, 2x, 5x."""

DAYS_PER_TICK = 0.25
"""Simulated days per clock tick at 1x."""

TICK_SECONDS = 0.5
"""Wall-clock seconds between clock ticks."""


def day_label(day: float) -> str:
    """``week 3, Tue`` for a simulated day (day 0 is Monday of week 1)."""
    whole = math.floor(day + 1e-9)
    return f"week {whole // 5 + 1}, {DAY_NAMES[whole % 5]}"


@dataclass
class StepNews:
    """What happened during one advance of the clock."""

    requests: list[int] = field(default_factory=list)
    """Ids of requests that landed in the inbox."""
    questions: list[int] = field(default_factory=list)
    """Ids of items newly blocked by a question."""
    reviews: list[str] = field(default_factory=list)
    """Stakeholders whose review became due."""
    days_crossed: int = 0
    """Whole days completed during the step."""
    finished: bool = False
    """The horizon was reached."""
    log: list[journal.Entry] = field(default_factory=list)
    """The log lines of what happened during the step."""

    @property
    def trust(self) -> list[journal.Entry]:
        """The trust changes during the step (each names the stakeholder, the change, the cause)."""
        return [entry for entry in self.log if entry.kind == "trust"]

    @property
    def wants_attention(self) -> bool:
        """Whether something landed that the player should see (auto-pause)."""
        return bool(self.requests or self.questions or self.reviews)


class Game:
    """One game: the scenario, its source, the simulation and the clock."""

    def __init__(
        self,
        scenario: Scenario,
        source: str,
        sha256: str,
        seed: int | None = None,
        sim: Simulation | None = None,
        autosave_to: Path | None = None,
        format: int = saves.SAVE_FORMAT,
    ) -> None:
        self.scenario = scenario
        self.source = source
        self.sha256 = sha256
        self.format = format
        """The save format whose rules the game is played by (an old save keeps its own)."""
        self.sim = sim if sim is not None else saves.new_simulation(scenario, seed, format)
        self.seed = self.sim.seed
        self.speed = 0
        """Clock speed (one of :data:`SPEEDS`; 0 = paused)."""
        self.last_speed = 1
        """The speed a resume returns to."""
        self.auto_pause = True
        """Pause when a request, a question or a review arrives."""
        self.autosave_to = autosave_to
        """Where to autosave (None: never)."""
        self.career = False
        """Whether this game counts for the career (recorded at the debrief)."""
        self.career_note: str | None = None
        """What the career made of the finished game (set once, at the debrief)."""
        self._snapshot: Snapshot | None = None
        snapshot = self.snapshot()
        self._seen_inbox = {item.id for item in snapshot.inbox}
        self._seen_questions = {item.id for item in snapshot.questions}
        self._seen_reviews = dict(snapshot.reviews_due or {})
        self._records_by_item: dict[int, list[Any]] = {}
        self._records_indexed = 0
        self.log, self._logged = journal.entries(self.sim)
        """The game's log so far (see :mod:`posim.engine.journal`)."""
        self._watched = len(self.sim.records)
        self.kept_autosave: Path | None = None
        """Where an unfinished game found in the autosave was kept before this one replaced it."""

    # -- loading -------------------------------------------------------

    @classmethod
    def new(cls, source: str, seed: int | None = None, autosave_to: Path | None = None) -> Game:
        """A new game of a scenario file or built-in; raises ``ScenarioError``."""
        scenario, digest = saves.load_source(source)
        game = cls(scenario, saves.normalise_source(source), digest, seed, autosave_to=autosave_to)
        from posim import career

        game.career = career.counts(game.source, scenario, game.seed)
        if autosave_to is not None:
            game.kept_autosave = saves.keep_unfinished_autosave(autosave_to)
        return game

    @classmethod
    def load(cls, path: str | Path, autosave_to: Path | None = None) -> Game:
        """Continue a saved game; raises :class:`~posim.saves.SaveError`."""
        where = str(path)
        save = saves.read_save(where)
        scenario = saves.scenario_of(save, where)
        sim = saves.restore(save, scenario, where)
        game = cls(
            scenario, save.source, save.sha256, sim=sim, autosave_to=autosave_to, format=save.format
        )
        game.career = save.career
        if autosave_to is not None and Path(where).resolve() != autosave_to.resolve():
            game.kept_autosave = saves.keep_unfinished_autosave(autosave_to, save)
        return game

    # -- reading -------------------------------------------------------

    @property
    def now(self) -> float:
        """The simulated day."""
        return self.sim.now

    @property
    def finished(self) -> bool:
        """Whether the horizon has been reached."""
        return self.sim.finished

    @property
    def paused(self) -> bool:
        """Whether the clock is stopped."""
        return self.speed == 0

    def snapshot(self) -> Snapshot:
        """The current snapshot (cached until the next change)."""
        if self._snapshot is None:
            self._snapshot = self.sim.snapshot()
        return self._snapshot

    def reviews_due(self) -> dict[str, float]:
        """Stakeholder -> review day still waiting for a report."""
        return dict(self.snapshot().reviews_due or {})

    def find(self, item_id: int) -> ItemView | None:
        """What the player can see about an item (None: no such item)."""
        if 1 <= item_id <= len(self.sim.items):
            return self.sim.view(self.sim.items[item_id - 1])
        return None

    def _item_records(self, item_id: int) -> tuple[Any, ...]:
        """An item's records so far (the engine's item history)."""
        return self.snapshot().history(item_id)

    def question_since(self, item_id: int) -> float:
        """The day an item's open question was asked (now if unknown)."""
        for record in reversed(self._item_records(item_id)):
            if record.kind == "blocked" and record.detail == "question":
                return float(record.time)
        return self.now

    def history(self, item_id: int) -> list[tuple[float, str, str]]:
        """An item's records as ``(day, kind, detail)``."""
        rows = []
        for record in self._item_records(item_id):
            where = record.column if record.column not in (None, record.kind) else ""
            who = f" by {record.member}" if record.member else ""
            text = f"{where}{who}".strip()
            if record.detail:
                text = f"{text} ({record.detail})" if text else record.detail
            rows.append((record.time, record.kind, text))
        return rows

    # -- the clock -----------------------------------------------------

    def set_speed(self, speed: int) -> None:
        """Run the clock at ``speed`` (0 pauses)."""
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}")
        self.speed = speed
        if speed:
            self.last_speed = speed

    def toggle_pause(self) -> None:
        """Pause a running clock, resume a paused one at its last speed."""
        self.set_speed(0 if self.speed else self.last_speed)

    def tick(self) -> StepNews:
        """One clock tick at the current speed (nothing when paused)."""
        if self.paused or self.finished:
            return StepNews(finished=self.finished)
        return self.advance_to(self.now + DAYS_PER_TICK * self.speed)

    def step_day(self) -> StepNews:
        """Advance to the start of the next whole day."""
        return self.advance_to(math.floor(self.now + 1e-9) + 1)

    def advance_to(self, day: float) -> StepNews:
        """Advance the engine to ``day`` and report what happened."""
        before = math.floor(self.now + 1e-9)
        stop = self._wants_attention if self.auto_pause else None
        saves.advance(self.sim, day, self.format, stop)
        self._watched = len(self.sim.records)
        self._snapshot = None
        news = StepNews()
        snapshot = self.snapshot()
        for view in snapshot.inbox:
            if view.id not in self._seen_inbox:
                self._seen_inbox.add(view.id)
                news.requests.append(view.id)
        for view in snapshot.questions:
            if view.id not in self._seen_questions:
                self._seen_questions.add(view.id)
                news.questions.append(view.id)
        reviews_due = snapshot.reviews_due or {}
        for name, when in reviews_due.items():
            if self._seen_reviews.get(name) != when:
                news.reviews.append(name)
        self._seen_reviews = dict(reviews_due)
        news.days_crossed = math.floor(self.now + 1e-9) - before
        news.finished = self.finished
        news.log = self._read_log()
        if news.finished:
            self.speed = 0
        if self.auto_pause and news.wants_attention:
            self.speed = 0
        if news.days_crossed or news.finished:
            self.autosave()
        return news

    def _wants_attention(self) -> bool:
        """Whether a request, a team question or a review landed since the last look.

        The auto-pause's test, called by the engine after each moment's events,
        so the clock stops exactly at the event (save format 2).
        """
        records = self.sim.records
        start, self._watched = self._watched, len(records)
        for record in records[start:]:
            kind = record.kind
            if (
                kind == "review"
                or (kind == "arrived" and record.detail != "backlog")
                or (kind == "blocked" and record.detail == "question")
            ):
                return True
        return False

    def _read_log(self) -> list[journal.Entry]:
        """The log lines added since the last read (kept in :attr:`log`)."""
        lines, self._logged = journal.entries(self.sim, self._logged)
        self.log.extend(lines)
        return lines

    def waiting(self) -> list[tuple[float, cmd.Command]]:
        """A person's decisions still waiting for the PO's time (day they take effect, command)."""
        return list(self.sim.books.waiting)

    # -- commands ------------------------------------------------------

    def apply(self, command: cmd.Command) -> list[journal.Entry]:
        """Apply a PO command now; raises :class:`~posim.engine.CommandError`.

        Returns the log lines it caused (a decline's trust change, a waiting decision).
        """
        if self.finished:
            raise cmd.CommandError("the game is over")
        try:
            self.sim.apply(command)
        finally:
            self._snapshot = None
        self._watched = len(self.sim.records)
        return self._read_log()

    def backlog_rank(self, item_id: int) -> int | None:
        """Position of an item in the backlog (0 = top), or None."""
        for rank, item in enumerate(self.sim.backlog):
            if item.id == item_id:
                return rank
        return None

    # -- saves ---------------------------------------------------------

    def to_save(self) -> saves.SavedGame:
        """The save of this game now."""
        return saves.from_simulation(
            self.sim, self.source, self.sha256, career=self.career, format=self.format
        )

    def save(self, path: str | Path) -> Path:
        """Save to ``path`` atomically; raises :class:`~posim.saves.SaveError`."""
        return saves.write_save(path, self.to_save())

    def autosave(self) -> Path | None:
        """Write the autosave (if enabled); errors are swallowed into the return value."""
        if self.autosave_to is None:
            return None
        try:
            return self.save(self.autosave_to)
        except saves.SaveError:
            return None

    def record_career(self) -> str | None:
        """Record a finished career game in the player's profile (once); what it meant."""
        if not self.career or not self.finished or self.career_note is not None:
            return self.career_note
        from posim import career

        result = self.result()
        try:
            profile = career.load_profile()
            fired_by = career.let_go(self.scenario, result)
            opened = career.record_game(profile, self.scenario, result)
            career.save_profile(profile)
        except career.ProfileError as error:
            self.career_note = f"Career not recorded: {error}"
            return self.career_note
        if fired_by is not None:
            note = f"{fired_by} lost all trust in you: you were let go. The game is failed."
        elif career.passes(result.score.grade):
            note = f"Passed with grade {result.score.grade}."
        else:
            note = f"Grade {result.score.grade}: pass with B or better to move on."
        if opened:
            note += f" Unlocked: {', '.join(opened)}."
        self.career_note = note
        return note

    def result(self) -> Any:
        """The engine's result so far (at the horizon: of the whole game)."""
        return self.sim.result()
