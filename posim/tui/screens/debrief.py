"""The debrief at the horizon: the score term by term, whether the lesson held,
"same luck" and "over seeds", trust and its causes.

The comparison (:func:`posim.debrief.build`: every built-in ordering on the
player's seed and on 30 other seeds, and the scenario's lesson) runs in a
worker thread with a progress bar, so the screen stays responsive.  From here
the player retries the same week (same seed), plays another week (a new
seed), or saves the trainer's copy (Markdown and JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label, ProgressBar, Sparkline, Static
from textual.worker import get_current_worker

from posim import debrief
from posim.engine.trust import daily_trust, explain_rules
from posim.tui.game import Game
from posim.tui.messages import NewGameRequested


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


@dataclass(frozen=True)
class Outcome:
    """One row of "same luck, other product owners"."""

    who: str
    score: float
    grade: str
    net_value: float | None
    items_done: float | None
    trust_mean: float | None
    metrics: dict[str, float | None] = field(default_factory=dict, compare=False, repr=False)
    """Every metric of the run (the lesson's metric is shown beside the score)."""

    @classmethod
    def of(cls, who: str, result: Any) -> Outcome:
        """The row of a :class:`~posim.engine.Result`."""
        metrics = result.metrics
        return cls(
            who,
            result.score.total,
            result.score.grade,
            metrics["net_value"],
            metrics["items_done"],
            metrics["trust_mean"],
            dict(metrics),
        )

    @classmethod
    def from_metrics(cls, who: str, entry: dict[str, Any]) -> Outcome:
        """The row of a ``same_luck`` entry of the debrief document."""
        metrics = entry["metrics"]
        return cls(
            who,
            entry["score"],
            entry["grade"],
            metrics["net_value"],
            metrics["items_done"],
            metrics["trust_mean"],
            dict(metrics),
        )

    def cells(self, lesson_metric: str | None = None) -> tuple[str, ...]:
        """The table cells (and the lesson's metric when it is not among them)."""
        cells = (
            self.who,
            f"{self.score:.1f}",
            self.grade,
            _number(self.net_value, 0),
            _number(self.items_done, 0),
            _number(self.trust_mean),
        )
        if lesson_metric is None or lesson_metric in ("net_value", "items_done", "trust_mean"):
            return cells
        value = self.metrics.get(lesson_metric)
        return (*cells, _number(value, debrief.digits(lesson_metric)))


class DebriefScreen(Screen[None]):
    """How the game went, how scripted product owners did on the same luck and over seeds."""

    BINDINGS = [
        Binding("b,escape", "back", "Board"),
        Binding("r", "retry", "Retry (same seed)"),
        Binding("w", "another_week", "Another week"),
        Binding("d", "save_debrief", "Save debrief"),
        Binding("n", "new_game", "New game"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, game: Game, runs: int | None = None, jobs: int = 1) -> None:
        super().__init__()
        self.game = game
        self.result = game.result()
        self._runs = runs
        self.jobs = jobs
        """Worker processes for the comparison (1: this worker thread only)."""
        self.terms_table: Table | None = None
        """The score's breakdown as shown."""
        self.outcomes: list[Outcome] = [Outcome.of("you", self.result)]
        """Your outcome, then each ordering's on the same luck once the comparison is done."""
        self.document: dict[str, Any] | None = None
        """The debrief document (``posim replay --debrief --json``) once computed."""
        self.progress: tuple[int, int] = (0, 0)
        """Simulations done and to do."""
        self.saved_to: list[Any] = []
        """The files of the last trainer's copy written."""

    # -- layout --------------------------------------------------------

    @property
    def runs(self) -> int:
        """Other seeds each ordering runs on (given, else the app's ``debrief_runs``, else 30)."""
        if self._runs is None:
            self._runs = int(getattr(self.app, "debrief_runs", debrief.DEFAULT_RUNS))
        return self._runs

    @property
    def new_games_allowed(self) -> bool:
        """Retry and "another week" are off in a workshop room (the app says so)."""
        return bool(getattr(self.app, "allow_new_games", True))

    def lesson_metric(self) -> str | None:
        """The metric the scenario's lesson is about (None without a lesson)."""
        from posim import career

        check = career.lesson_check(self.game.scenario.name)
        return None if check is None else check.metric

    def lesson_lower_is_better(self) -> bool:
        """Whether less of the lesson's metric is better (cost of delay, cycle time, ...)."""
        from posim import career

        check = career.lesson_check(self.game.scenario.name)
        return check is not None and check.lower_is_better

    def compose(self) -> ComposeResult:
        result = self.result
        score = result.score
        metric = self.lesson_metric()
        headline = (
            f"Debrief: {self.game.scenario.display_title} · seed {self.game.seed} · "
            f"score {score.total:.1f} of 100 · grade {score.grade}"
        )
        if metric is not None:
            value = result.metrics.get(metric)
            better = "lower" if self.lesson_lower_is_better() else "higher"
            headline += (
                f"\nThe lesson's metric, {metric}: "
                f"{_number(value, debrief.digits(metric))} ({better} is better)"
            )
        with VerticalScroll(id="debrief"):
            yield Static(headline, id="debrief-title")
            note = self.game.record_career()
            if note:
                yield Static(f"Career: {note}", id="career-note")
            yield Static("The lesson", classes="section")
            yield Static(
                " ".join(self.game.scenario.lesson.split()) or "This scenario states no lesson.",
                id="lesson-text",
            )
            yield Static("", id="lessons")
            with Horizontal(id="debrief-progress-row"):
                yield ProgressBar(
                    total=debrief.simulations(self.game.scenario, self.runs),
                    show_eta=False,
                    id="debrief-progress",
                )
                yield Static(
                    f"running every ordering on your seed and on {self.runs} other seeds…",
                    id="others-status",
                )
            yield Static(
                f"Same luck: every ordering on your seed ({self.game.seed}), honest reports",
                classes="section",
            )
            others: DataTable[str] = DataTable(id="others", cursor_type="row", zebra_stripes=True)
            headings = ["product owner", "score", "grade", "net value", "items done", "trust"]
            if metric is not None and metric not in ("net_value", "items_done", "trust_mean"):
                headings.append(metric)
            others.add_columns(*headings)
            others.add_row(*self.outcomes[0].cells(metric), key="you")
            yield others
            yield Static(
                f"Over {self.runs} other seeds: how each ordering does in other weeks",
                classes="section",
            )
            yield DataTable(id="over-seeds", cursor_type="row", zebra_stripes=True)
            yield Static("Score, term by term", classes="section")
            terms = Table(expand=True, box=box.SIMPLE_HEAD)
            terms.add_column("term", no_wrap=True)
            terms.add_column("weight", justify="right", no_wrap=True)
            terms.add_column("points", justify="right", no_wrap=True)
            terms.add_column("how it went", ratio=1)
            for term in score.terms:
                terms.add_row(
                    term.name, f"{term.weight * 100:.0f} %", f"{term.points:.1f}", term.explanation
                )
            terms.add_row(
                "total", "100 %", f"{score.total:.1f}", f"grade {score.grade}", style="bold"
            )
            self.terms_table = terms
            yield Static(terms, id="terms")
            if result.by_product:
                yield Static("Per product", classes="section")
                products = Table(box=None, padding=(0, 2))
                for heading in ("product", "items done", "net value", "trust", "score"):
                    products.add_column(
                        heading, justify="left" if heading == "product" else "right"
                    )
                for name, metrics in result.by_product.items():
                    trust = metrics["trust_mean"]
                    products.add_row(
                        name,
                        f"{metrics['items_done']:g}",
                        f"{metrics['net_value']:,.0f}",
                        "—" if trust is None else f"{trust:.0f}",
                        f"{metrics['score']:.1f}",
                    )
                yield Static(products, id="products")
            yield Static("Trust over time", classes="section")
            series = {  # the engine's trust history, day by day
                person.name: daily_trust(person.trust_history, result.horizon)
                for person in self.game.snapshot().stakeholders
            }
            for name, values in series.items():
                with Horizontal(classes="trust-row"):
                    yield Label(f"{name} {values[-1] if values else 0:.0f}", classes="trust-name")
                    yield Sparkline(values, summary_function=min, classes="trust-spark")
            changes: DataTable[str | Text] = DataTable(
                id="trust-changes", cursor_type="row", zebra_stripes=True
            )
            changes.add_columns("day", "stakeholder", "change", "cause", "why")
            for day, change in result.trust_changes:
                changes.add_row(
                    f"{day:.1f}",
                    change.stakeholder,
                    Text(f"{change.delta:+.1f}", style="green" if change.delta >= 0 else "red"),
                    change.cause,
                    change.explanation,
                )
            yield changes
            yield Static("The trust rules", classes="section")
            yield Static("\n".join(f"• {rule}" for rule in explain_rules()), id="rules")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Back to the board", id="back", action="screen.back")
                yield Button("Retry (same seed)", id="retry", action="screen.retry")
                yield Button("Another week", id="another-week", action="screen.another_week")
                yield Button("Save debrief", id="save-debrief", action="screen.save_debrief")
                yield Button("New game", id="new", action="screen.new_game")
                yield Button("Quit", id="quit", action="app.quit")
        yield Footer()

    def on_mount(self) -> None:
        """Hide what a room turns off; start the comparison in a worker thread."""
        if not self.new_games_allowed:
            for button in ("#retry", "#another-week", "#new"):
                self.query_one(button, Button).display = False
        self.compare()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Retry, another week and new game are off in a room."""
        return self.new_games_allowed or action not in ("retry", "another_week", "new_game")

    # -- the comparison ------------------------------------------------

    @work(thread=True, exclusive=True, group="debrief")
    def compare(self) -> None:
        """Same luck, over seeds and the lesson (:func:`posim.debrief.build`), off the UI thread."""
        from posim import __version__

        worker = get_current_worker()
        step = max(1, debrief.simulations(self.game.scenario, self.runs) // 50)

        def progress(done: int, total: int) -> None:
            if (done % step == 0 or done == total) and not worker.is_cancelled:
                self._from_worker(self.show_progress, done, total)

        try:
            document = debrief.build(
                self.game.scenario,
                self.result,
                runs=self.runs,
                jobs=self.jobs,
                version=__version__,
                progress=progress,
                cancelled=lambda: worker.is_cancelled,
            )
        except debrief.Cancelled:
            return
        if not worker.is_cancelled:
            self._from_worker(self.show_document, document)

    def _from_worker(self, callback: Any, *args: Any) -> None:
        """Run ``callback`` on the UI thread; nothing when the app has stopped meanwhile."""
        try:
            self.app.call_from_thread(self._if_shown, callback, *args)
        except RuntimeError:  # the app is no longer running (quit while computing)
            return

    def _if_shown(self, callback: Any, *args: Any) -> None:
        """Run ``callback`` unless this screen left meanwhile (retry or another week)."""
        if not self.is_attached:
            return
        try:
            callback(*args)
        except NoMatches:  # the screen is being taken down as the worker reports
            return

    def show_progress(self, done: int, total: int) -> None:
        """Move the progress bar."""
        self.progress = (done, total)
        self.query_one("#debrief-progress", ProgressBar).update(total=total, progress=done)

    def show_document(self, document: dict[str, Any]) -> None:
        """Fill same luck, over seeds and the lessons from the finished comparison."""
        self.document = document
        total = self.progress[1] or debrief.simulations(self.game.scenario, self.runs)
        self.show_progress(total, total)
        self.query_one("#debrief-progress-row").display = False
        table = self.query_one("#others", DataTable)
        for name, entry in document["same_luck"].items():
            outcome = Outcome.from_metrics(name, entry)
            self.outcomes.append(outcome)
            table.add_row(*outcome.cells(self.lesson_metric()), key=name)
        over = self.query_one("#over-seeds", DataTable)
        header, *rows = debrief.rows(document)["over_seeds"]
        over.add_columns(*header)
        for row in rows:
            over.add_row(*row, key=row[0])
        ranked = sorted(self.outcomes, key=lambda o: -o.score)
        place = next(i for i, o in enumerate(ranked) if o.who == "you") + 1
        lines = [lesson["sentence"] for lesson in document["lessons"]]
        lines.append("")
        lines.append(
            f"You placed {place} of {len(ranked)} on your seed. Every ordering reports honestly "
            "(Monte Carlo, 85 %) and accepts requests by the scenario's triage policy. Luck: "
            "the share of an ordering's scores over the other seeds below its score on yours "
            "(above 50 %, your week was kind to it)."
        )
        self.query_one("#lessons", Static).update("\n".join(lines))

    # -- actions -------------------------------------------------------

    def action_back(self) -> None:
        """Back to the final board."""
        self.app.pop_screen()

    def action_retry(self) -> None:
        """Play the same scenario again on the same seed: the same week, the same luck."""
        self.app.start_new(  # type: ignore[attr-defined]
            self.game.source, seed=self.game.seed, career=self.game.career
        )

    def action_another_week(self) -> None:
        """Play the same scenario on a new seed: another week, other luck."""
        from posim.engine.randomness import random_seed

        seed = random_seed()
        while seed == self.game.seed:  # pragma: no cover - one chance in a million
            seed = random_seed()
        self.app.start_new(  # type: ignore[attr-defined]
            self.game.source, seed=seed, career=self.game.career
        )

    def action_save_debrief(self) -> None:
        """Write the trainer's copy (debrief.md and debrief.json) into the saves folder."""
        if self.document is None:
            self.notify("The comparison is still running.", title="Not yet")
            return
        from datetime import UTC, datetime

        from posim import saves

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = (
            saves.saves_dir()
            / "debriefs"
            / f"{self.game.scenario.name}-seed{self.game.seed}-{stamp}"
        )
        try:
            self.saved_to = debrief.write_files(
                self.document, folder, self.game.scenario.display_title
            )
        except OSError as error:
            self.notify(f"{folder}: {error.strerror or error}", title="Not saved", severity="error")
            return
        self.notify(str(folder), title="Debrief saved (Markdown and JSON)")

    def action_new_game(self) -> None:
        """Back to the title screen."""
        self.app.post_message(NewGameRequested())

    def action_help(self) -> None:
        """Show the help."""
        from posim.tui.screens.dialogs import HelpScreen

        self.app.push_screen(HelpScreen())
