"""The board: where the game is played.

The screen owns the :class:`~posim.tui.game.Game`, drives its clock from a
timer, renders snapshots into the widgets (attributes down) and turns the
player's keys, clicks and dialog answers into engine commands (messages up).
A command the engine refuses is shown as a notification, never a crash.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static, TabbedContent, TabPane

from posim import saves
from posim.engine import commands as cmd
from posim.engine import journal
from posim.tui.coach import Coach
from posim.tui.game import TICK_SECONDS, Game, StepNews
from posim.tui.messages import NewGameRequested
from posim.tui.screens.dialogs import HelpScreen, MessageDialog, NumberDialog
from posim.tui.screens.report import ReportRow, ReportScreen
from posim.tui.widgets.cards import Card, CardList
from posim.tui.widgets.charts import ChartsPanel
from posim.tui.widgets.journal import LogPanel, TeamPanel, TeamStrip
from posim.tui.widgets.panels import ActionButton, ClockBar, DetailPanel, StakeholderPanel

if TYPE_CHECKING:
    from posim.engine.simulation import Snapshot

MIN_WIDTH = 80
"""Below this many columns the board shows "terminal too small"."""
MIN_HEIGHT = 24
"""Below this many rows the board shows "terminal too small"."""


class BoardScreen(Screen[None]):
    """The Kanban board, the inbox, the stakeholders, the clock and the charts."""

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/run"),
        Binding("1", "speed(1)", "1×", show=False),
        Binding("2", "speed(2)", "2×", show=False),
        Binding("5", "speed(5)", "5×", show=False),
        Binding("full_stop", "step_day", "+1 day"),
        Binding("shift+up,K", "move_up", "Up", show=False),
        Binding("shift+down,J", "move_down", "Down", show=False),
        Binding("t", "move_top", "Top"),
        Binding("c", "commit", "Commit"),
        Binding("w", "set_wip", "WIP"),
        Binding("a", "accept", "Accept"),
        Binding("d", "decline", "Decline"),
        Binding("n", "answer", "Answer"),
        Binding("r", "report", "Report"),
        Binding("p", "toggle_auto_pause", "Auto-pause", show=False),
        Binding("g", "toggle_tab", "Charts", show=False),
        Binding("l", "show_tab('tab-log')", "Log", show=False),
        Binding("e", "show_tab('tab-team')", "Team", show=False),
        Binding("s", "save", "Save", show=False),
        Binding("left", "lane(-1)", "Lane ←", show=False),
        Binding("right", "lane(1)", "Lane →", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("m", "menu", "Menu", show=False),
        Binding("x", "skip_coach", "Skip coach step", show=False),
    ]

    def __init__(self, game: Game) -> None:
        super().__init__()
        self.game = game
        self.selected: int | None = None
        """The item whose details are shown."""
        self.timer: Timer | None = None
        self.engine_error: str | None = None
        """Set when the engine failed: the game stops."""
        self._debriefed = False
        self.last_save: Path | None = None
        """Where the player last saved."""
        self.last_lane = "backlog"
        """The lane that last had the focus (the WIP button acts on it)."""
        self.last_refusal: str | None = None
        """The engine's last refusal of a command (also shown as a notification)."""
        self.coach = Coach.for_game(game)
        """The guided first game's coach (None: this scenario is not coached)."""

    # -- layout --------------------------------------------------------

    def compose(self) -> ComposeResult:
        snapshot = self.game.snapshot()
        yield ClockBar(id="clock")
        with TabbedContent(id="tabs"):
            with TabPane("Board", id="tab-board"), Vertical(id="board"):
                with Horizontal(id="lanes"):
                    yield CardList("backlog", "Backlog", id="lane-backlog")
                    yield CardList("ready", "Ready", id="lane-ready")
                    for index, column in enumerate(snapshot.columns):
                        yield CardList(column.name, column.name, id=f"lane-col-{index}")
                    yield CardList("done", "Done", id="lane-done")
                yield TeamStrip(id="team-strip")
                with Horizontal(id="lower"):
                    yield DetailPanel(id="detail")
                    with Vertical(id="side"):
                        yield CardList("inbox", "Inbox", id="inbox")
                        with Horizontal(id="inbox-buttons"):
                            yield ActionButton(
                                "Accept", id="accept", action="screen.accept", compact=True
                            )
                            yield ActionButton(
                                "Decline", id="decline", action="screen.decline", compact=True
                            )
                            yield ActionButton(
                                "Answer", id="answer", action="screen.answer", compact=True
                            )
                            yield ActionButton(
                                "Report", id="report", action="screen.report", compact=True
                            )
                    yield StakeholderPanel(id="stakeholders")
            with TabPane("Today", id="tab-log"):
                yield LogPanel(id="log")
            with TabPane("Team", id="tab-team"):
                yield TeamPanel(id="team")
            with TabPane("Charts", id="tab-charts"):
                yield ChartsPanel(id="charts")
        yield Static(
            f"Terminal too small: make it at least {MIN_WIDTH}×{MIN_HEIGHT} "
            "(Ctrl+Q saves and quits).",
            id="too-small",
        )
        yield Static(id="coach")
        yield Footer()

    def on_mount(self) -> None:
        """Show the first snapshot, focus the backlog and start the clock."""
        self.title = self.game.scenario.display_title
        self.set_class(self.coach is not None, "-coached")
        self.refresh_view()
        backlog = self.query_one("#lane-backlog", CardList)
        backlog.focus()
        if backlog.option_count:
            backlog.highlighted = 0
            self.selected = backlog.selected_item
            self.show_detail()
        self.timer = self.set_interval(TICK_SECONDS, self.tick, name="clock")
        self.check_size(self.app.size.width, self.app.size.height)
        if self.game.kept_autosave is not None:
            self.notify(
                f"Your unfinished game was kept in {self.game.kept_autosave} (Load lists it).",
                title="Autosave kept",
                timeout=8,
            )
        if self.game.finished:
            self.call_after_refresh(self.show_debrief)

    def on_resize(self, event: Resize) -> None:
        """Switch to the "terminal too small" notice under the minimum size."""
        self.check_size(event.size.width, event.size.height)

    def check_size(self, width: int, height: int) -> None:
        """Set the ``-too-small`` class when the terminal is under the minimum."""
        self.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")

    @property
    def too_small(self) -> bool:
        """Whether the "terminal too small" notice is showing."""
        return self.has_class("-too-small")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No key acts on a board the player cannot see ("terminal too small")."""
        return not self.too_small

    # -- rendering -----------------------------------------------------

    def refresh_view(self) -> None:
        """Render the current snapshot into every widget."""
        game = self.game
        snapshot = game.snapshot()
        now = snapshot.time
        workers = {m.working_on: m.name for m in snapshot.members if m.working_on is not None}
        backlog = self.query_one("#lane-backlog", CardList)
        backlog.show(
            [Card(i, now - i.arrived, economics=True) for i in snapshot.backlog],
            "Backlog",
            f"{len(snapshot.backlog)} items",
        )
        limit = "" if snapshot.ready_wip is None else f"/{snapshot.ready_wip}"
        self.query_one("#lane-ready", CardList).show(
            [Card(i, now - (i.committed or now), economics=True) for i in snapshot.ready],
            "Ready",
            f"{len(snapshot.ready)}{limit}",
        )
        for index, column in enumerate(snapshot.columns):
            limit = "" if column.wip is None else f"/{column.wip}"
            finished = set(column.finished)
            self.query_one(f"#lane-col-{index}", CardList).show(
                [
                    Card(
                        i,
                        now - (i.started if i.started is not None else now),
                        workers.get(i.id),
                        i.id in finished,
                    )
                    for i in column.items
                ],
                column.name,
                f"{len(column.items)}{limit}",
            )
        done = snapshot.done
        self.query_one("#lane-done", CardList).show(
            [
                Card(i, (i.done or now) - (i.started if i.started is not None else i.arrived))
                for i in reversed(done)
            ],
            "Done",
            f"{len(done)}",
        )
        inbox = self.query_one("#inbox", CardList)
        waiting = {
            getattr(command, "item", None): journal.plain(command).split(" ")[0]
            for _, command in game.waiting()
        }
        requests = [
            Card(
                i,
                now - i.arrived,
                note=f"from {i.requester}",
                age_label="waited",
                prefix="req",
                economics=True,
                waiting=waiting.get(i.id, ""),
            )
            for i in snapshot.inbox
        ]
        questions = [
            Card(
                i,
                now - game.question_since(i.id),
                note="the team asks",
                age_label="waited",
                prefix="q",
                waiting=waiting.get(i.id, ""),
            )
            for i in snapshot.questions
        ]
        inbox.show(
            requests + questions, f"Inbox: {len(requests)} requests, {len(questions)} questions"
        )
        self.query_one("#stakeholders", StakeholderPanel).show(
            snapshot.stakeholders,
            game.reviews_due(),
            snapshot.next_review,
            journal.last_trust_changes(game.sim),
        )
        po_time = journal.po_time(game.sim)
        sprint = journal.sprint(game.sim)
        self.query_one("#clock", ClockBar).show(
            f"seed {game.seed} · {game.scenario.display_title}",
            snapshot,
            game.speed,
            game.auto_pause,
            po_time,
            sprint,
        )
        members = journal.team(game.sim)
        self.query_one("#team-strip", TeamStrip).show(members)
        self.show_detail(snapshot)
        self.show_coach()
        log = self.query_one("#log", LogPanel)
        if log.lines_shown < len(game.log):
            log.add(game.log[log.lines_shown :])
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active == "tab-charts":
            self.refresh_charts()
        elif tabs.active == "tab-team":
            self.query_one("#team", TeamPanel).show(members, sprint, po_time, now)

    def show_coach(self) -> None:
        """The coach's current step (a toast too when the step changes)."""
        coach = self.coach
        if coach is None:
            return
        changed = coach.update(self.game)
        text = coach.text(self.game)
        self.query_one("#coach", Static).update(text)
        step = coach.current
        if changed and step is not None and not self.game.finished:
            self.notify(
                text.split(": ", 1)[-1],
                title=f"Coach {coach.number}/{len(coach.steps)}: {step.title}",
                timeout=12,
            )

    def action_skip_coach(self) -> None:
        """Skip the coach's step; once the steps are over, hide the coach."""
        coach = self.coach
        if coach is None:
            return
        if coach.current is None:
            self.coach = None
            self.set_class(False, "-coached")
            return
        coach.skip()
        self.refresh_view()

    def show_detail(self, snapshot: Snapshot | None = None) -> None:
        """Render the selected item's details."""
        snapshot = snapshot or self.game.snapshot()
        item = self.game.find(self.selected) if self.selected is not None else None
        self.query_one("#detail", DetailPanel).show(
            item,
            snapshot.time,
            [c.name for c in snapshot.columns],
            self.game.history(item.id) if item is not None else (),
            self.game.backlog_rank(item.id) if item is not None else None,
        )

    def refresh_charts(self) -> None:
        """Redraw the charts from the game so far."""
        result = self.game.result()
        self.query_one("#charts", ChartsPanel).show(
            result.items, result.columns, self.game.snapshot()
        )

    # -- the clock -----------------------------------------------------

    def tick(self) -> None:
        """One timer tick: advance the engine unless paused or covered by a dialog."""
        if self.app.screen is not self or self.engine_error is not None or self.too_small:
            return  # covered by a dialog, stopped, or unseen ("terminal too small")
        if self.game.paused or self.game.finished:
            return
        self.run_clock(self.game.tick)

    def run_clock(self, step: Any) -> None:
        """Run one clock step; handle what happened (or an engine failure)."""
        try:
            news: StepNews = step()
        except Exception as error:  # an engine bug: stop, keep the autosave, exit non-zero
            self.engine_failed(error)
            return
        self.refresh_view()
        self.handle_news(news)

    def tell_trust(self, entries: list[journal.Entry]) -> None:
        """A toast for every trust change: the stakeholder, the change and its cause."""
        for entry in entries:
            if entry.kind != "trust":
                continue
            delta = entry.delta or 0.0
            sign = f"{delta:+.1f}".replace("-", "−")
            _, _, why = entry.text.partition(": ")
            self.notify(
                why or entry.text,
                title=f"{entry.stakeholder} trust {sign}",
                severity="information" if delta > 0 else "warning",
            )

    def handle_news(self, news: StepNews) -> None:
        """Tell the player what landed; open the report at a review; debrief at the end."""
        game = self.game
        self.tell_trust(news.log)
        for item_id in news.requests:
            item = game.find(item_id)
            if item is not None:
                self.notify(f"#{item.id} {item.title}", title=f"Request from {item.requester}")
        for item_id in news.questions:
            item = game.find(item_id)
            if item is not None:
                self.notify(
                    f"#{item.id} {item.title} waits for your answer (n)",
                    title="The team has a question",
                    severity="warning",
                )
        if news.finished:
            self.show_debrief()
            return
        if news.reviews and game.reviews_due():
            self.action_report()

    def engine_failed(self, error: BaseException) -> None:
        """Stop the game after an engine error: show it, keep the autosave, exit non-zero."""
        self.game.speed = 0
        self.engine_error = f"{type(error).__name__}: {error}"
        where = self.game.autosave_to
        kept = f"\n\nYour last autosave is kept at {where}." if where else ""
        self.app.push_screen(
            MessageDialog("The simulation failed", f"{self.engine_error}{kept}"),
            lambda _: self.app.exit(
                return_code=1, message=f"posim: engine error: {self.engine_error}"
            ),
        )

    def show_debrief(self) -> None:
        """Open the debrief (once)."""
        if self._debriefed:
            return
        self._debriefed = True
        from posim.tui.screens.debrief import DebriefScreen

        self.game.autosave()
        self.app.push_screen(DebriefScreen(self.game))

    def action_toggle_pause(self) -> None:
        """Pause or resume the clock."""
        self.game.toggle_pause()
        self.refresh_view()

    def action_speed(self, speed: int) -> None:
        """Run the clock at 1×, 2× or 5×."""
        self.game.set_speed(speed)
        self.refresh_view()

    def action_step_day(self) -> None:
        """Advance one day (the clock stays as it was)."""
        if self.game.finished or self.engine_error is not None:
            return
        self.run_clock(self.game.step_day)

    def action_toggle_auto_pause(self) -> None:
        """Switch auto-pause on new requests, questions and reviews."""
        self.game.auto_pause = not self.game.auto_pause
        self.notify(f"Auto-pause {'on' if self.game.auto_pause else 'off'}")
        self.refresh_view()

    # -- selection -----------------------------------------------------

    @on(OptionList.OptionHighlighted)
    def card_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Show the highlighted card's details."""
        lane = event.option_list
        if isinstance(lane, CardList) and lane.has_focus:
            self.selected = lane.selected_item
            self.show_detail()

    def on_descendant_focus(self) -> None:
        """Focusing a lane selects its highlighted card."""
        lane = self.focused
        if isinstance(lane, CardList):
            self.last_lane = lane.lane
            if lane.selected_item is not None:
                self.selected = lane.selected_item
                self.show_detail()

    def lanes(self) -> list[CardList]:
        """Every lane left to right, then the inbox."""
        return list(self.query(CardList))

    def action_lane(self, step: int) -> None:
        """Focus the lane to the left or right."""
        lanes = self.lanes()
        focused = self.focused
        index = lanes.index(focused) if focused in lanes else 0
        lanes[(index + step) % len(lanes)].focus()

    def action_toggle_tab(self) -> None:
        """Switch between the board and the charts."""
        self.action_show_tab("tab-charts")

    def action_show_tab(self, tab: str) -> None:
        """Show a tab (the charts, the log, the team); from that tab, back to the board."""
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active != tab:
            tabs.active = tab
            target = {"tab-charts": "#charts", "tab-log": "#log", "tab-team": "#team"}[tab]
            self.query_one(target).focus()
        else:
            tabs.active = "tab-board"
            self.query_one("#lane-backlog", CardList).focus()

    @on(TabbedContent.TabActivated)
    def tab_changed(self, event: TabbedContent.TabActivated) -> None:
        """Draw the charts when their tab opens."""
        if event.pane.id == "tab-charts":
            charts = self.query_one("#charts", ChartsPanel)
            if self.focused is not charts:
                charts.focus()  # a focused lane on the hidden tab would switch back
            self.refresh_charts()
        elif event.pane.id in ("tab-log", "tab-team"):
            pane = self.query_one("#log" if event.pane.id == "tab-log" else "#team")
            if self.focused is not pane:
                pane.focus()
            self.refresh_view()

    # -- commands ------------------------------------------------------

    def command(self, command: cmd.Command, done: str | None = None) -> bool:
        """Apply a command; show the engine's refusal as a notification."""
        try:
            lines = self.game.apply(command)
        except cmd.CommandError as error:
            self.last_refusal = str(error)
            self.notify(str(error), title="Not possible", severity="error")
            return False
        except Exception as error:  # an engine bug, not a refusal
            self.engine_failed(error)
            return False
        waits = [entry for entry in lines if entry.kind == "waiting"]
        if waits:
            self.notify(waits[0].text, title="Your time")
        elif done:
            self.notify(done)
        self.tell_trust(lines)
        self.refresh_view()
        return True

    def backlog_selection(self) -> int | None:
        """The selected item if it is in the backlog (else tell the player)."""
        item = self.selected
        if item is None or self.game.backlog_rank(item) is None:
            self.notify("Select an item in the backlog first.", severity="warning")
            return None
        return item

    def action_move_up(self) -> None:
        """Move the selected backlog item up one place."""
        self.move_by(-1)

    def action_move_down(self) -> None:
        """Move the selected backlog item down one place."""
        self.move_by(1)

    def move_by(self, step: int) -> None:
        """Move the selected backlog item by ``step`` places."""
        item = self.backlog_selection()
        if item is None:
            return
        rank = self.game.backlog_rank(item) or 0
        target = max(0, rank + step)
        if target != rank:
            self.command(cmd.Reorder(item, target))
        self.query_one("#lane-backlog", CardList).select_item(item)

    def action_move_top(self) -> None:
        """Move the selected backlog item to the top."""
        item = self.backlog_selection()
        if item is not None:
            self.command(cmd.Reorder(item, 0))
            self.query_one("#lane-backlog", CardList).select_item(item)

    def action_commit(self) -> None:
        """Commit the selected backlog item to Ready."""
        item = self.backlog_selection()
        if item is not None:
            self.command(cmd.Commit(item), f"#{item} committed to Ready")

    def action_set_wip(self) -> None:
        """Change the WIP limit of the focused lane (Ready or a work column)."""
        lane = self.last_lane
        snapshot = self.game.snapshot()
        columns = {c.name: c.wip for c in snapshot.columns}
        if lane == "ready":
            current = snapshot.ready_wip
        elif lane in columns:
            current = columns[lane]
        else:
            self.notify("Focus Ready or a work column to change its WIP limit.", severity="warning")
            return
        column = lane

        def answer(limit: int | None) -> None:
            if limit is None:
                return
            value = None if limit == NumberDialog.BLANK_ANSWER else limit
            text = "no limit" if value is None else str(value)
            self.command(cmd.SetWip(column, value), f"WIP limit of {column}: {text}")

        self.app.push_screen(
            NumberDialog(
                f"WIP limit of {column}", "A whole number ≥ 1; blank for no limit.", current
            ),
            answer,
        )

    def inbox_selection(self, kind: str) -> int | None:
        """The inbox entry of ``kind`` (``req``/``q``) that is highlighted, else the first."""
        snapshot = self.game.snapshot()
        entries = snapshot.inbox if kind == "req" else snapshot.questions
        if not entries:
            return None
        inbox = self.query_one("#inbox", CardList)
        chosen = inbox.selected_item
        ids = [i.id for i in entries]
        if chosen in ids:
            return chosen
        if kind == "q" and self.selected in ids:
            return self.selected
        return ids[0]

    def action_accept(self) -> None:
        """Accept the selected request into the backlog at a rank."""
        item = self.inbox_selection("req")
        if item is None:
            self.notify("No request in the inbox.", severity="warning")
            return
        size = len(self.game.snapshot().backlog)

        def answer(rank: int | None) -> None:
            if rank is None:
                return
            where = None if rank == NumberDialog.BLANK_ANSWER else rank - 1
            place = "the bottom" if where is None else f"rank {rank}"
            self.command(cmd.Accept(item, where), f"#{item} accepted at {place}")

        self.app.push_screen(
            NumberDialog(
                f"Accept request #{item}",
                f"Backlog rank (1 = top, {size + 1} = bottom); blank for the bottom.",
                None,
            ),
            answer,
        )

    def action_decline(self) -> None:
        """Decline the selected request."""
        item = self.inbox_selection("req")
        if item is None:
            self.notify("No request in the inbox.", severity="warning")
            return
        self.command(cmd.Decline(item), f"#{item} declined")

    def action_answer(self) -> None:
        """Answer the selected question (or the oldest one)."""
        item = self.inbox_selection("q")
        if item is None:
            self.notify("No question is waiting.", severity="warning")
            return
        self.command(cmd.Answer(item), f"#{item}: question answered")

    def report_rows(self) -> list[ReportRow]:
        """The report modal's rows: every stakeholder with their forecast."""
        game = self.game
        due = game.reviews_due()
        rows = []
        for person in game.snapshot().stakeholders:
            # The engine's honest reporting policy suggests; the dialog only shows it.
            suggestion = game.sim.suggested_report(person.name, "honest")
            forecast = suggestion.forecast
            percentiles = dict(forecast.percentiles) if forecast and forecast.has_data else {}
            rows.append(
                ReportRow(
                    person.name,
                    person.role,
                    person.trust,
                    len(person.open_items),
                    person.name in due,
                    person.promise_day,
                    person.promise_status,
                    percentiles,
                    forecast.assumptions.text if forecast else "",
                    suggestion.forecast_day,
                    suggestion.status,
                )
            )
        return rows

    def action_report(self) -> None:
        """Open the status report (not once the game is over: nobody is listening)."""
        if isinstance(self.app.screen, ReportScreen):
            return
        if self.game.finished:
            self.notify("The game is over: no more reports.", severity="warning")
            return
        rows = self.report_rows()
        if not rows:
            self.notify("This scenario has no stakeholders to report to.", severity="warning")
            return

        def answer(reports: list[cmd.Report] | None) -> None:
            if not reports or self.game.finished:
                return
            sent = [r for r in reports if self.command(r)]
            if sent:
                self.notify(f"Reported to {', '.join(r.stakeholder for r in sent)}")

        self.app.push_screen(ReportScreen(rows, self.game.now), answer)

    # -- saves and help ------------------------------------------------

    def action_save(self) -> None:
        """Save the game to the saves folder."""
        game = self.game
        path = saves.saves_dir() / f"{game.scenario.name}-day{math.floor(game.now):03d}.json"
        try:
            written = game.save(path)
        except saves.SaveError as error:
            self.notify(str(error), title="Not saved", severity="error")
            return
        self.last_save = written
        self.notify(str(written), title="Saved")

    def action_help(self) -> None:
        """Show the help."""
        self.app.push_screen(HelpScreen())

    def action_menu(self) -> None:
        """Autosave and go to the title screen (new game, continue, career)."""
        self.app.post_message(NewGameRequested())
