"""Messages the game's screens send the app (instead of calling into it)."""

from __future__ import annotations

from textual.message import Message


class NewGameRequested(Message):
    """Leave the current game (autosaved) for the title screen."""
