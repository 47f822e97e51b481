"""The debrief at the horizon: the score term by term, trust and its causes,
and "same luck, other product owners".

The comparison runs every built-in ordering on the same scenario and seed
(common random numbers: the same arrivals, efforts and blockers) in a worker
thread, so the screen stays responsive; rows appear as each run finishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label, Sparkline, Static
from textual.worker import get_current_worker

from posim.engine import ORDERINGS, simulate
from posim.engine.trust import explain_rules
from posim.tui.game import Game


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
        )

    def cells(self) -> tuple[str, ...]:
        """The table cells."""
        return (
            self.who,
            f"{self.score:.1f}",
            self.grade,
            _number(self.net_value, 0),
            _number(self.items_done, 0),
            _number(self.trust_mean),
        )


def trust_series(
    start: dict[str, float], changes: Sequence[tuple[float, Any]], horizon: float
) -> dict[str, list[float]]:
    """Each stakeholder's trust at the end of every whole day, from the trust changes."""
    from posim.engine.trust import apply

    days = max(1, int(horizon))
    series: dict[str, list[float]] = {}
    for name, trust in start.items():
        values = []
        ordered = sorted(
            ((day, c) for day, c in changes if c.stakeholder == name), key=lambda pair: pair[0]
        )
        position = 0
        for day in range(1, days + 1):
            while position < len(ordered) and ordered[position][0] <= day:
                trust = apply(trust, ordered[position][1].delta)
                position += 1
            values.append(trust)
        series[name] = values
    return series


class DebriefScreen(Screen[None]):
    """How the game went, and how scripted product owners did on the same luck."""

    BINDINGS = [
        Binding("b,escape", "back", "Board"),
        Binding("n", "new_game", "New game"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, game: Game) -> None:
        super().__init__()
        self.game = game
        self.result = game.result()
        self.terms_table: Table | None = None
        """The score's breakdown as shown."""
        self.outcomes: list[Outcome] = [Outcome.of("you", self.result)]
        """Your outcome, then each strategy's as it finishes."""

    def compose(self) -> ComposeResult:
        result = self.result
        score = result.score
        with VerticalScroll(id="debrief"):
            yield Label(
                f"Debrief: {self.game.scenario.display_title} · score {score.total:.1f} of 100 "
                f"· grade {score.grade}",
                id="debrief-title",
            )
            note = self.game.record_career()
            if note:
                yield Static(f"Career: {note}", id="career-note")
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
            yield Static(
                "Same luck, other product owners (same scenario, same seed)", classes="section"
            )
            others: DataTable[str] = DataTable(id="others", cursor_type="row", zebra_stripes=True)
            others.add_columns(
                "product owner", "score", "grade", "net value", "items done", "trust"
            )
            others.add_row(*self.outcomes[0].cells(), key="you")
            yield others
            yield Static("running the built-in strategies…", id="others-status")
            yield Static("Trust over time", classes="section")
            start = {s.name: s.trust for s in self.game.scenario.stakeholders}
            series = trust_series(start, result.trust_changes, result.horizon)
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
                yield Button("New game", id="new", action="screen.new_game")
                yield Button("Quit", id="quit", action="app.quit")
        yield Footer()

    def on_mount(self) -> None:
        """Start the comparison in a worker thread."""
        self.compare()

    @work(thread=True, exclusive=True, group="debrief")
    def compare(self) -> None:
        """Run every built-in ordering on the same scenario and seed (common random numbers)."""
        worker = get_current_worker()
        scenario, seed = self.game.scenario, self.game.seed
        for name in ORDERINGS:
            if worker.is_cancelled:
                return
            result = simulate(scenario, strategy=name, seed=seed, keep_records=False)
            self.app.call_from_thread(self.add_outcome, Outcome.of(name, result))
        self.app.call_from_thread(self.comparison_done)

    def add_outcome(self, outcome: Outcome) -> None:
        """Add a strategy's row."""
        self.outcomes.append(outcome)
        self.query_one("#others", DataTable).add_row(*outcome.cells(), key=outcome.who)

    def comparison_done(self) -> None:
        """Say where the player ranks."""
        ranked = sorted(self.outcomes, key=lambda o: -o.score)
        place = next(i for i, o in enumerate(ranked) if o.who == "you") + 1
        self.query_one("#others-status", Static).update(
            f"You placed {place} of {len(ranked)}. Every strategy reports honestly "
            "(Monte Carlo, 85 %) and accepts requests by the scenario's triage policy."
        )

    def action_back(self) -> None:
        """Back to the final board."""
        self.app.pop_screen()

    def action_new_game(self) -> None:
        """Back to the title screen."""
        self.app.new_game()  # type: ignore[attr-defined]

    def action_help(self) -> None:
        """Show the help."""
        from posim.tui.screens.dialogs import HelpScreen

        self.app.push_screen(HelpScreen())
