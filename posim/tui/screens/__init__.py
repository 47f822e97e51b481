"""Screens of the game: title, board, report, debrief, dialogs."""
