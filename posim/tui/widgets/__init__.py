"""Widgets of the game, grouped by board region: cards, panels, charts."""
