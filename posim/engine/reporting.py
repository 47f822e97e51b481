"""Reporting policies: what a PO tells a stakeholder at a review.

``honest``      the 85th percentile of a Monte Carlo "when" forecast from the
                team's observed daily throughput (:mod:`posim.engine.forecast`);
                at risk (or late) when it is later than the last promise
``optimistic``  remaining estimates / the team's nominal capacity; at risk
                when later than the last promise
``green``       never moves a promise: on track, the same day, until the
                promised items are done

:class:`Reporter` reads the board, the books and the team and writes
nothing: a strategy reports what it suggests, and the game offers the
player the same suggestion (:meth:`Simulation.suggested_report`).  The
forecast draws from its own random stream, never the luck's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from posim.engine import forecast as fc
from posim.engine.board import Board
from posim.engine.books import Books
from posim.engine.clock import Clock
from posim.engine.commands import Status
from posim.engine.items import Item
from posim.engine.randomness import Streams
from posim.engine.team import Team

THROUGHPUT_WINDOW_DAYS = 60
"""Most days of throughput history an honest forecast samples from, counted back from
today but never before the first delivery (shorter windows under-cover:
the bootstrap ignores the uncertainty of the mean rate)."""
FORECAST_TRIALS = 200
"""Monte Carlo trials of a strategy's honest forecast at each review."""
FORECAST_LEVEL = 85
"""The percentile an honest report promises."""
AT_RISK_MARGIN_DAYS = 0.0
"""An honest report says at risk when its forecast is later than the promise by more than this."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What a reporting policy would tell a stakeholder now."""

    status: Status
    forecast_day: float
    forecast: fc.Forecast | None
    """The forecast behind an honest report (None: another policy)."""


class Reporter:
    """The reporting policies, reading the simulation's parts."""

    def __init__(
        self,
        board: Board,
        books: Books,
        team: Team,
        clock: Clock,
        streams: Streams,
        horizon: float,
    ) -> None:
        self.board = board
        self.books = books
        self.team = team
        self.clock = clock
        self.streams = streams
        self.horizon = horizon

    def items_ahead(self, name: str) -> tuple[int, list[Item]]:
        """How many items must be done before the stakeholder's last open item is.

        Everything started or in Ready counts, plus the backlog down to the
        stakeholder's lowest-ranked item.
        """
        board = self.board
        mine = self.books.open_items(name)
        if not mine:
            return 0, mine
        in_flow = len(board.ready) + sum(board.counts)
        backlog = board.backlog
        last_backlog = len(backlog) - 1  # scanned from the end: the last is usually near it
        while last_backlog >= 0 and backlog[last_backlog].requester != name:
            last_backlog -= 1
        return in_flow + last_backlog + 1, mine

    def optimistic_day(self, mine: list[Item]) -> float:
        """Sum of the remaining estimates / the team's nominal capacity per day."""
        capacity = self.team.nominal_capacity()
        work = 0.0
        for item in mine:
            if item.state in ("backlog", "ready"):
                work += item.estimate_total
            else:
                for column, estimate in enumerate(item.estimate):
                    if item.column_entered.get(column) is None or column == item.column:
                        work += estimate
        return self.clock.now + work / max(capacity, 1e-9)

    def forecast(self, name: str | None, trials: int = FORECAST_TRIALS) -> fc.Forecast:
        """Monte Carlo "when" forecast for a stakeholder's open items (None: all work)."""
        history, ahead, today, rng = self._forecast_inputs(name)
        return fc.when_done(history, ahead, rng, trials=trials, start_day=today)

    def _forecast_inputs(self, name: str | None) -> tuple[list[int], int, int, random.Random]:
        """The throughput history, the items ahead, today and the forecast's stream."""
        board = self.board
        now = self.clock.now
        if name is None:
            ahead = len(board.backlog) + len(board.ready) + sum(board.counts)
        else:
            ahead, _ = self.items_ahead(name)
        today = math.floor(now)
        done_days = board.done_days
        window = THROUGHPUT_WINDOW_DAYS
        if done_days:
            # Sample only since the first delivery: the days the board spent
            # filling up are not the flow's throughput (they would make every
            # early forecast far too pessimistic).
            window = max(0, min(window, today - math.floor(done_days[0])))
        history = board.throughput(max(0, today - window), today)
        return history, ahead, today, self.streams.get("forecast", name or "")

    def honest_day(self, name: str) -> float:
        """The 85th-percentile Monte Carlo forecast from observed daily throughput.

        With no throughput yet, the optimistic day stands in.  Only that percentile
        is computed (``_honest(name)[0]``, the same day from the same numbers).
        """
        history, ahead, today, rng = self._forecast_inputs(name)
        day = fc.when_done_at(history, ahead, rng, FORECAST_LEVEL, FORECAST_TRIALS, today)
        if day is None:
            return self.optimistic_day(self.books.open_items(name))
        return day if math.isfinite(day) else self.horizon * 2

    def _honest(self, name: str) -> tuple[float, fc.Forecast]:
        forecast = self.forecast(name)
        if not forecast.has_data:
            return self.optimistic_day(self.books.open_items(name)), forecast
        day = forecast.percentiles[FORECAST_LEVEL]
        return (day if math.isfinite(day) else self.horizon * 2), forecast

    def suggest(self, policy: str, name: str) -> tuple[Status, float]:
        """The status and forecast day ``policy`` gives stakeholder ``name`` now."""
        suggestion = self.suggestion(policy, name)
        return suggestion.status, suggestion.forecast_day

    def suggestion(self, policy: str, name: str, *, with_forecast: bool = True) -> Suggestion:
        """What ``policy`` tells stakeholder ``name`` now, with the forecast behind it.

        Without ``with_forecast`` (a strategy reporting: only the status and the
        day matter), an honest suggestion's ``forecast`` is None, and only the
        percentile reported is computed: the same status and day.
        """
        previous = self.books.stakeholders[name].last_report
        if policy == "green":
            # Never move a promise: while the promised items are not all done,
            # repeat the day; only a new set of items gets a new (optimistic) day.
            if previous is not None:
                return Suggestion("on_track", previous.forecast_day, None)
            day = round(self.optimistic_day(self.books.open_items(name)), 1)
            return Suggestion("on_track", day, None)
        if policy == "optimistic":
            day = round(self.optimistic_day(self.books.open_items(name)), 1)
            if previous is not None and day > previous.forecast_day:
                return Suggestion("at_risk", day, None)
            return Suggestion("on_track", day, None)
        if policy != "honest":
            raise ValueError(f"unknown reporting policy {policy!r}")
        forecast: fc.Forecast | None
        if with_forecast:
            exact, forecast = self._honest(name)
        else:
            exact, forecast = self.honest_day(name), None
        day = round(exact, 1)
        if previous is not None and day > previous.forecast_day + AT_RISK_MARGIN_DAYS:
            late = self.clock.now > previous.forecast_day
            return Suggestion("late" if late else "at_risk", day, forecast)
        return Suggestion("on_track", day, forecast)
