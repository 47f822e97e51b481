"""The Textual game: a person plays the product owner (see ``app.py``)."""
