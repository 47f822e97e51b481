"""Read-only panels of the board: the clock bar, card details, stakeholders.

Each panel is given the state to show (attributes down) and renders it; its
buttons carry actions that the screen runs (messages up).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from posim.engine.items import ItemView
from posim.engine.simulation import Snapshot, StakeholderView
from posim.tui.game import day_label

STATUS_LABELS = {"on_track": "on track", "at_risk": "at risk", "late": "late"}
"""Status -> how the player reads it."""


def trust_bar(trust: float, width: int = 10) -> Text:
    """``███████░░░ 70`` coloured by level."""
    filled = max(0, min(width, round(trust / 100 * width)))
    style = "green" if trust >= 60 else "yellow" if trust >= 30 else "red"
    text = Text()
    text.append("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {trust:.0f}")
    return text


class ActionButton(Button, can_focus=False):
    """A button that runs an action without taking the focus from the board's lanes."""


class ClockBar(Horizontal):
    """Week and day, speed, auto-pause, and the clock's buttons."""

    def compose(self) -> ComposeResult:
        yield Static(id="clock-text")
        yield ActionButton(
            "Pause/run", id="clock-pause", action="screen.toggle_pause", compact=True
        )
        yield ActionButton("1×", id="clock-1", action="screen.speed(1)", compact=True)
        yield ActionButton("2×", id="clock-2", action="screen.speed(2)", compact=True)
        yield ActionButton("5×", id="clock-5", action="screen.speed(5)", compact=True)
        yield ActionButton("+1 day", id="clock-step", action="screen.step_day", compact=True)

    def show(self, title: str, snapshot: Snapshot, speed: int, auto_pause: bool) -> None:
        """Render the clock line."""
        text = Text()
        text.append(f"{title} ", style="bold")
        text.append(f"{day_label(snapshot.time)} ", style="bold cyan")
        text.append(f"day {snapshot.time:.2f}/{snapshot.horizon:g} ")
        if snapshot.finished:
            text.append("■ over", style="bold magenta")
        elif speed == 0:
            text.append("‖ paused", style="bold yellow")
        else:
            text.append(f"▶ {speed}×", style="bold green")
        text.append(f" · auto-pause {'on' if auto_pause else 'off'}")
        if snapshot.next_review is not None:
            text.append(f" · review d{snapshot.next_review:g}")
        if snapshot.review_due:
            text.append(" · REPORT DUE", style="bold red")
        self.query_one("#clock-text", Static).update(text)


class DetailPanel(Vertical):
    """The selected card's details and history, with buttons to act on it."""

    def compose(self) -> ComposeResult:
        yield Static("Select a card to see its details.", id="detail-text")
        with Horizontal(id="detail-buttons"):
            yield ActionButton("▲", id="move-up", action="screen.move_up", compact=True)
            yield ActionButton("▼", id="move-down", action="screen.move_down", compact=True)
            yield ActionButton("Top", id="move-top", action="screen.move_top", compact=True)
            yield ActionButton("Commit", id="commit", action="screen.commit", compact=True)
            yield ActionButton("WIP", id="wip", action="screen.set_wip", compact=True)

    def show(
        self,
        item: ItemView | None,
        now: float,
        columns: Sequence[str],
        history: Sequence[tuple[float, str, str]] = (),
        rank: int | None = None,
    ) -> None:
        """Render an item (or the hint when none is selected)."""
        target = self.query_one("#detail-text", Static)
        if item is None:
            target.update("Select a card to see its details.")
            return
        text = Text()
        text.append(f"#{item.id} {item.title}\n", style="bold")
        text.append(f"{item.kind}, {item.cls.replace('_', '-')}")
        if rank is not None:
            text.append(f", backlog rank {rank + 1}")
        text.append(f" · state {item.state}")
        if item.column:
            text.append(f" ({item.column})")
        if item.blocked:
            text.append(f" · blocked by a {item.blocked}", style="bold red")
        text.append("\n")
        text.append(f"value {item.value:,.0f} · cost of delay {item.cost_of_delay:,.0f}/day")
        if item.due is not None:
            text.append(f" · due day {item.due:g}", style="yellow")
        text.append("\n")
        estimate = ", ".join(
            f"{name} {days:.1f}" for name, days in zip(columns, item.estimate, strict=False) if days
        )
        text.append(f"estimate {item.estimate_total:.1f} days ({estimate})\n")
        text.append(f"requester {item.requester or '—'} · arrived day {item.arrived:.1f}")
        text.append(f" · product {item.product}\n" if item.product else "\n")
        for day, kind, detail in list(history)[-6:]:
            text.append(f"  d{day:5.1f} {kind} {detail}\n", style="dim")
        target.update(text)


class StakeholderPanel(Static):
    """Trust bars, promises and the next review, one row per stakeholder."""

    def show(
        self,
        stakeholders: Sequence[StakeholderView],
        reviews_due: dict[str, float],
        next_review: float | None,
    ) -> None:
        """Render the stakeholders."""
        if not stakeholders:
            self.update("No stakeholders in this scenario.")
            return
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        for person in stakeholders:
            if person.promise_day is not None:
                status = STATUS_LABELS.get(person.promise_status or "", "")
                promise = f"promised day {person.promise_day:g} ({status})"
            else:
                promise = "no open promise"
            if person.name in reviews_due:
                promise += " · report due"
            elif next_review is not None:
                promise += f" · review day {next_review:g}"
            name = Text(f"{person.name} ×{person.influence:g}", style="bold")
            if person.product:
                name.append(f" {person.product}", style="magenta")
            table.add_row(name, trust_bar(person.trust))
            table.add_row(
                Text(f"{len(person.open_items)} open", style="dim"),
                Text(promise, style="dim"),
            )
        self.update(table)
