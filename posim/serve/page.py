"""The pages the server shows: the game's page (offline) and short HTML notices.

textual-serve ships its JavaScript, CSS and fonts, but its page also links a
Google Fonts stylesheet; :func:`offline_page` makes a copy without it, with
``@font-face`` rules pointing at the bundled fonts, so a room needs no
internet.  :func:`notice` is a small self-contained page (no script, no
outside reference) for "the room is full" and the like.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

TITLE = "posim — product-owner simulator"
"""The name shown on the page while the game starts."""

_EXTERNAL_REFERENCE = re.compile(r"""(?:href|src)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
_EXTERNAL_LINK = re.compile(
    r"""<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^>]*>""", re.IGNORECASE
)

_LOCAL_FONTS = """<style>
      @font-face {
        font-family: "Roboto Mono";
        font-style: normal;
        font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
      }
      @font-face {
        font-family: "Roboto Mono";
        font-style: italic;
        font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf")
          format("truetype");
      }
    </style>
  </head>"""

STYLE = """
  body { background: #0c181f; color: #e8eef2; font: 16px/1.5 "Roboto Mono", menlo, monospace;
         margin: 0; padding: 2rem; }
  main { max-width: 60rem; margin: 0 auto; }
  h1 { font-size: 1.4rem; color: #ffd166; }
  a, button { color: #0c181f; background: #ffd166; border: 0; padding: .4rem 1rem;
              font: inherit; cursor: pointer; text-decoration: none; border-radius: 3px; }
  input { font: inherit; padding: .3rem; }
  table { border-collapse: collapse; margin: 1rem 0; }
  th, td { padding: .25rem .8rem; border-bottom: 1px solid #2b3d48; text-align: left; }
  td.n, th.n { text-align: right; }
  .muted { color: #8da2ae; }
  .playing { color: #06d6a0; } .paused { color: #ffd166; } .finished { color: #7fb4ff; }
  .gone { color: #ef476f; }
"""
"""The notices' and the trainer's pages' look (the game page's colours)."""


class PageError(Exception):
    """textual-serve's page cannot be served offline; ``str()`` is one line."""


def game_command(scenario: str | None = None, python: str | None = None) -> list[str]:
    """The command each browser tab runs: ``python -m posim play SCENARIO`` (or ``--menu``).

    A scenario given as an existing file is made absolute, so the game finds
    it whatever its working folder; anything else (a built-in name) is kept.
    """
    command = [python or sys.executable, "-m", "posim", "play"]
    if scenario is None:
        command.append("--menu")  # a workshop starts at the title screen: pick a scenario
    else:
        path = Path(scenario)
        command.append(str(path.resolve()) if path.is_file() else scenario)
    return command


def offline_page(template: str) -> str:
    """textual-serve's page template with no reference to another host.

    Removes every ``<link>`` to an outside stylesheet (textual-serve links
    Google Fonts) and declares the bundled Roboto Mono fonts instead.  Raises
    :class:`PageError` if anything else on the page would still be fetched
    from the internet.
    """
    page = _EXTERNAL_LINK.sub("", template)
    if "</head>" not in page:
        raise PageError("textual-serve's page template has no </head>; cannot add local fonts")
    page = page.replace("</head>", _LOCAL_FONTS, 1)
    if _EXTERNAL_REFERENCE.search(page):
        raise PageError(
            "textual-serve's page loads something from the internet; "
            "this version of textual-serve is not supported offline"
        )
    return page


def document(title: str, body: str, *, refresh: int | None = None) -> str:
    """A whole HTML page with posim's look; ``body`` is HTML already escaped."""
    reload = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"{reload}<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def notice(title: str, *paragraphs: str, refresh: int | None = None) -> str:
    """A page that says one thing: a heading and plain-text paragraphs."""
    text = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs)
    return document(title, f"<h1>{html.escape(title)}</h1>{text}", refresh=refresh)


def room_full_text(max_players: int) -> tuple[str, str, str]:
    """The heading and the two sentences a player over the cap reads."""
    return (
        "The room is full",
        f"{max_players} {'player is' if max_players == 1 else 'players are'} already playing, "
        "the most this server takes "
        f"(posim serve --max-players {max_players}).",
        "Wait for someone to close their tab, then reload this page; or ask the trainer.",
    )
