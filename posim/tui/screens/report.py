"""The status report: a status and a forecast day for each stakeholder.

Opened at each review (and on ``r``).  The forecast helper beside each row
shows the Monte Carlo 50/85/95 % days for that stakeholder's open items and
what they assume; the day field starts at the 85 % day.  Dismisses with the
list of :class:`~posim.engine.Report` commands to apply, or None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from posim.engine.commands import Report, Status
from posim.tui.widgets.panels import STATUS_LABELS


@dataclass(frozen=True)
class ReportRow:
    """What the modal shows for one stakeholder."""

    name: str
    role: str
    trust: float
    open_items: int
    review_due: bool
    promise_day: float | None
    promise_status: str | None
    percentiles: dict[int, float]
    """Forecast day per confidence level (empty without throughput data)."""
    assumptions: str
    suggested_day: float
    suggested_status: Status


def _day(value: float) -> str:
    return "never" if not math.isfinite(value) else f"d{value:.0f}"


class ReportScreen(ModalScreen[list[Report] | None]):
    """Per stakeholder: a status (on track / at risk / late) and a forecast day."""

    BINDINGS = [
        Binding("escape", "cancel", "Later"),
        Binding("ctrl+s", "send", "Send report"),
    ]

    def __init__(self, rows: list[ReportRow], day: float) -> None:
        super().__init__()
        self.rows = rows
        self.day = day

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="report"):
            yield Label(f"Status report, day {self.day:.1f}", classes="dialog-title")
            with VerticalScroll(id="report-rows"):
                for index, row in enumerate(self.rows):
                    with Vertical(classes="report-row"):
                        due = " · review due" if row.review_due else ""
                        promise = (
                            f"last promise d{row.promise_day:g} "
                            f"({STATUS_LABELS.get(row.promise_status or '', '')})"
                            if row.promise_day is not None
                            else "no open promise"
                        )
                        yield Static(
                            f"[b]{row.name}[/b] ({row.role or 'stakeholder'}) · trust "
                            f"{row.trust:.0f} · {row.open_items} open items · {promise}{due}"
                        )
                        with Horizontal(classes="report-inputs"):
                            yield Select(
                                [(label, key) for key, label in STATUS_LABELS.items()],
                                value=row.suggested_status,
                                allow_blank=False,
                                id=f"status-{index}",
                                compact=True,
                            )
                            yield Input(
                                f"{row.suggested_day:g}",
                                type="number",
                                id=f"day-{index}",
                                compact=True,
                            )
                        if row.percentiles:
                            helper = " · ".join(
                                f"{q} %: {_day(row.percentiles[q])}" for q in (50, 85, 95)
                            )
                        else:
                            helper = "no forecast yet"
                        yield Static(
                            f"forecast {helper}\n{row.assumptions}", classes="forecast-helper"
                        )
            yield Static("", id="report-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send report", variant="primary", id="send")
                yield Button("Later", id="later")

    def on_mount(self) -> None:
        """Focus the first status."""
        if self.rows:
            self.query_one("#status-0", Select).focus()

    @on(Button.Pressed, "#send")
    @on(Input.Submitted)
    def action_send(self) -> None:
        """Dismiss with a report per stakeholder, or say which day is wrong."""
        reports = []
        for index, row in enumerate(self.rows):
            status = self.query_one(f"#status-{index}", Select).value
            text = self.query_one(f"#day-{index}", Input).value.strip()
            try:
                day = float(text)
            except ValueError:
                day = -1.0
            if not math.isfinite(day) or day < 0:
                self.query_one("#report-error", Static).update(
                    f"{row.name}: the forecast day must be a day ≥ 0."
                )
                return
            reports.append(Report(row.name, status, day))  # type: ignore[arg-type]
        self.dismiss(reports)

    @on(Button.Pressed, "#later")
    def action_cancel(self) -> None:
        """Close without reporting (a review left without a report costs trust)."""
        self.dismiss(None)
