"""Read-only panels of the board: the clock bar, card details, stakeholders.

Each panel is given the state to show (attributes down) and renders it; its
buttons carry actions that the screen runs (messages up).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from posim.engine.items import ItemView
from posim.engine.journal import PoTime, SprintStatus
from posim.engine.simulation import Snapshot, StakeholderView
from posim.tui.game import day_label
from posim.tui.widgets.cards import day_text

STATUS_LABELS = {"on_track": "on track", "at_risk": "at risk", "late": "late"}
"""Status -> how the player reads it."""


def trust_bar(trust: float, width: int = 8) -> Text:
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

    def show(
        self,
        title: str,
        snapshot: Snapshot,
        speed: int,
        auto_pause: bool,
        po_time: PoTime | None = None,
        sprint: SprintStatus | None = None,
    ) -> None:
        """Render the clock line: the state and the day first (they must fit in 80 columns)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        if snapshot.finished:
            text.append("■ over", style="bold magenta")
        elif speed == 0:
            text.append("‖ paused", style="bold yellow")
        else:
            text.append(f"▶ {speed}×", style="bold green")
        text.append(f" day {snapshot.time:.1f}/{snapshot.horizon:g} ", style="bold")
        text.append(f"{day_label(snapshot.time)}", style="bold cyan")
        if snapshot.review_due:
            text.append(" · REPORT DUE", style="bold red")
        if po_time is not None:
            text.append(f" · PO {po_time.left_today:.1f}h left", style="bold")
            if po_time.waiting:
                text.append(f" ({len(po_time.waiting)} waiting)", style="yellow")
        if sprint is not None:
            text.append(f" · sprint {sprint.number} ends d{day_text(sprint.end)}")
        elif snapshot.next_review is not None:
            text.append(f" · review d{day_text(snapshot.next_review)}")
        text.append(f" · auto-pause {'on' if auto_pause else 'off'}", style="dim")
        text.append(f" · {title}", style="dim")
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
            text.append(f" · due day {day_text(item.due)}", style="yellow")
        text.append("\n")
        estimate = ", ".join(
            f"{name} {days:.1f}" for name, days in zip(columns, item.estimate, strict=False) if days
        )
        text.append(f"estimate {item.estimate_total:.1f} days ({estimate})\n")
        text.append(f"requester {item.requester or '—'} · arrived day {item.arrived:.1f}")
        text.append(f" · product {item.product}\n" if item.product else "\n")
        for day, kind, detail in list(history)[-6:]:
            text.append(f"  d{day:.1f} {kind} {detail}".rstrip() + "\n", style="dim")
        target.update(text)


class StakeholderPanel(Static):
    """Trust bars, promises, the next review and the last trust change, per stakeholder."""

    def show(
        self,
        stakeholders: Sequence[StakeholderView],
        reviews_due: dict[str, float],
        next_review: float | None,
        last_changes: dict[str, tuple[float, float, str]] | None = None,
    ) -> None:
        """Render the stakeholders: a name and a trust bar, then what they were told and why
        their trust last moved (full names: the line below is the one that gets cut)."""
        if not stakeholders:
            self.update("No stakeholders in this scenario.")
            return
        last_changes = last_changes or {}
        labels = [f"{p.name} ×{p.influence:g}" for p in stakeholders]
        width = max(len(label) for label in labels)
        text = Text(no_wrap=True, overflow="ellipsis")
        for person, label in zip(stakeholders, labels, strict=True):
            if person.promise_day is not None:
                status = STATUS_LABELS.get(person.promise_status or "", "")
                promise = f"promised d{day_text(person.promise_day)} ({status})"
            else:
                promise = "no promise"
            if person.name in reviews_due:
                promise += " · report due"
            elif next_review is not None:
                promise += f" · review d{day_text(next_review)}"
            text.append(label.ljust(width), style="bold")
            text.append(" ")
            text.append_text(trust_bar(person.trust))
            if person.product:
                text.append(f" {person.product}", style="magenta")
            text.append("\n")
            text.append(f"  {len(person.open_items)} open · {promise}\n", style="dim")
            change = last_changes.get(person.name)
            if change is not None:
                day, delta, why = change
                sign = f"{delta:+.0f}".replace("-", "−")
                style = "green" if delta > 0 else "red"
                text.append(f"  {sign}", style=f"bold {style}")
                text.append(f" d{day_text(day)}: {why}\n", style=style)
        self.update(text)
