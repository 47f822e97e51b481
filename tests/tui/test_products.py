"""Several products: the game shows each item's and stakeholder's product, and the
debrief breaks the result down per product."""

from __future__ import annotations

from pathlib import Path

from posim.tui.app import build_app
from posim.tui.screens.debrief import DebriefScreen
from posim.tui.widgets.cards import Card

from .conftest import board_of, step_until


async def test_products_on_cards_panels_and_in_the_debrief(posim_home: Path) -> None:
    app = build_app("two-products")
    async with app.run_test(size=(160, 50)) as pilot:
        board = board_of(app)
        names = [p.name for p in board.game.scenario.products]
        assert len(names) == 2
        snapshot = board.game.snapshot()
        item = next(i for i in (*snapshot.backlog, *snapshot.ready) if i.product)
        assert item.product in Card(item=item, age_days=0.0).render().plain
        screen = app.export_screenshot().replace("&#160;", " ")
        for name in names:  # the stakeholders panel names every product
            assert name in screen
        await step_until(pilot, lambda b: b.game.finished, limit=400)
        await pilot.pause()
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        assert list(debrief.result.by_product) == names
        assert debrief.query_one("#products") is not None
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "Per product" in shown
        for name in names:
            assert name in shown
