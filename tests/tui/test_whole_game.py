"""A whole game played by Pilot to the horizon, then its save replayed headless.

The player orders the backlog, accepts or declines every request, answers
every question and reports at every review; at the horizon the debrief
shows the score and the built-in strategies on the same luck.  The autosave
replayed by :func:`posim.saves.replay` (and by ``posim replay``) must give
the identical result.
"""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable
from typer.testing import CliRunner

from posim import career, cli, saves
from posim.engine import ORDERINGS, Accept, Answer, Decline, Reorder, Report, simulate
from posim.tui.app import build_app
from posim.tui.screens.debrief import DebriefScreen
from posim.tui.screens.dialogs import NumberDialog
from posim.tui.screens.report import ReportScreen
from posim.tui.screens.title import TitleScreen

from .conftest import board_of


async def test_whole_game_to_the_horizon_then_replay(posim_home: Path) -> None:
    app = build_app("tutorial")
    async with app.run_test(size=(120, 40)) as pilot:
        board = board_of(app)
        game = board.game
        game.career = True  # record it in the career profile too
        await pilot.press("end", "t")  # the last backlog item to the top
        accepted = declined = answered = reports = 0
        for _ in range(200):
            if isinstance(app.screen, DebriefScreen):
                break
            if isinstance(app.screen, ReportScreen):
                await pilot.pause()
                await pilot.click("#send")
                await pilot.pause()
                reports += 1
                continue
            snapshot = game.snapshot()
            if snapshot.questions:
                await pilot.press("n")
                answered += 1
            elif snapshot.inbox:
                if snapshot.inbox[0].id % 2:
                    await pilot.press("a")
                    await pilot.pause()
                    assert isinstance(app.screen, NumberDialog)
                    await pilot.press("end", "backspace", "1", "enter")  # at the top
                    await pilot.pause()
                    accepted += 1
                else:
                    await pilot.press("d")
                    declined += 1
            else:
                board.action_step_day()  # the "." key, without a repaint per day
        else:
            raise AssertionError("the game did not reach its horizon")
        await pilot.pause()
        assert game.finished and game.now == 40.0
        assert min(accepted, declined, answered) >= 1 and reports >= 3
        kinds = {type(c) for _, c in game.sim.commands}
        assert kinds == {Reorder, Accept, Decline, Answer, Report}
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        shown = debrief.result
        await app.workers.wait_for_complete()
        await pilot.pause()
        others = debrief.query_one("#others", DataTable)
        assert others.row_count == 1 + len(ORDERINGS)
        assert [o.who for o in debrief.outcomes] == ["you", *ORDERINGS]
        # "Same luck": each row is the headless run of that strategy on the game's seed.
        wsjf = simulate(game.scenario, strategy="wsjf", seed=game.seed, keep_records=False)
        row = next(o for o in debrief.outcomes if o.who == "wsjf")
        assert row.score == wsjf.score.total
        terms = debrief.terms_table
        assert terms is not None
        assert list(terms.columns[0].cells) == [
            *(t.name for t in shown.score.terms),
            "total",
        ]
        assert list(terms.columns[3].cells)[:-1] == [t.explanation for t in shown.score.terms]
        assert debrief.query_one("#trust-changes", DataTable).row_count == len(shown.trust_changes)
        note = str(debrief.query_one("#career-note").render())
        assert note.startswith("Career: ")
        await pilot.press("b")  # back to the final board, then on to a new game
        await pilot.pause()
        assert app.screen is board
        await pilot.press("full_stop", "c")  # the game is over: nothing moves
        assert game.now == 40.0 and board.last_refusal in (None, "the game is over")
        board.show_debrief()  # once only
        assert app.screen is board
        app.new_game()
        await pilot.pause()
        assert isinstance(app.screen, TitleScreen) and app.game is None
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    profile = career.load_profile()
    assert profile.record("tutorial").attempts == 1
    assert profile.record("tutorial").best_grade in (shown.score.grade, None)

    autosave = posim_home / "autosave.json"
    save, replayed = saves.replay(autosave)
    assert save.day == 40.0
    assert replayed.metrics == shown.metrics
    assert replayed.score == shown.score
    # The library's step-by-step replay agrees.
    direct = saves.restore(save, game.scenario).result()
    assert direct.metrics == shown.metrics

    runner = CliRunner()
    completed = runner.invoke(cli.app, ["replay", str(autosave), "--json"])
    assert completed.exit_code == 0, completed.output
    document = json.loads(completed.stdout)
    assert document["metrics"] == json.loads(json.dumps(shown.metrics))
    assert document["score"]["total"] == shown.score.total
    assert document["score"]["grade"] == shown.score.grade
    assert document["commands"] == len(save.commands)
    table = runner.invoke(cli.app, ["replay", str(autosave)], terminal_width=200)
    assert table.exit_code == 0
    assert f"Score {shown.score.total:.1f} of 100: grade {shown.score.grade}." in table.stdout
