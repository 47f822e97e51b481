"""Cards and the lists that hold them: one lane of the board, or the inbox.

Widgets here only render what they are given (attributes down) and let their
:class:`~textual.widgets.OptionList` messages bubble up; the board screen
decides what a highlight or a selection means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from posim.engine.items import ItemView

CLASS_STYLES = {
    "expedite": ("EXP", "bold red"),
    "fixed_date": ("DATE", "bold yellow"),
    "standard": ("STD", "green"),
    "intangible": ("INT", "magenta"),
}
"""Class of service -> (short tag, colour)."""


def day_text(day: float) -> str:
    """A day for a card or a panel: ``18`` or ``18.6`` (never ``18.6048``)."""
    rounded = round(day, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def amount_text(amount: float) -> str:
    """A value for a narrow card: ``950``, ``1.2k``, ``12k``."""
    if abs(amount) >= 10_000:
        return f"{amount / 1000:.0f}k"
    if abs(amount) >= 1000:
        return f"{amount / 1000:.1f}k"
    return f"{amount:.0f}"


def option_id(item_id: int) -> str:
    """The option id of an item's card."""
    return f"item-{item_id}"


def item_of(option: Option | None) -> int | None:
    """The item id behind a card option (None for no option)."""
    if option is None or option.id is None:
        return None
    return int(option.id.rsplit("-", 1)[1])


@dataclass(frozen=True)
class Card:
    """What one card shows."""

    item: ItemView
    age_days: float
    """Days in the current state (backlog, Ready, started, done: cycle time)."""
    worker: str | None = None
    finished_here: bool = False
    note: str = ""
    """Extra text (e.g. who sent a request)."""
    age_label: str = ""
    """Words before the age (e.g. ``waited``); none on the board."""
    prefix: str = "item"
    """The option id's prefix: ``item`` on the board, ``req`` or ``q`` in the inbox."""
    economics: bool = False
    """Show value, cost of delay per day and the estimate (where the PO orders and triages)."""
    waiting: str = ""
    """A decision on this card that waits for the PO's time (e.g. ``accept``)."""

    def render(self) -> Text:
        """Two lines: ``#id title`` and class, (economics or age), block, worker."""
        item = self.item
        tag, style = CLASS_STYLES.get(item.cls, ("?", ""))
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"#{item.id} ", style="bold")
        text.append(item.title)
        text.append("\n")
        text.append(tag, style=style)
        if item.due is not None:
            text.append(f" d{day_text(item.due)}", style=style)
        if item.product:
            text.append(f" {item.product}", style="magenta")
        if self.economics:
            text.append(f" val {amount_text(item.value)}", style="green")
            text.append(f" cod {amount_text(item.cost_of_delay)}/d", style="yellow")
            text.append(f" est {item.estimate_total:.1f}d", style="cyan")
        if self.waiting:
            text.append(f" ⧗ {self.waiting}", style="bold yellow")
        age = f"{self.age_label} " if self.age_label else ""
        text.append(f" {age}{self.age_days:.1f}d", style="dim")
        if item.blocked:
            text.append(f" ✖ {item.blocked}", style="bold red")
        if self.finished_here:
            text.append(" ✓", style="bold green")
        if self.worker:
            text.append(f" {self.worker}", style="cyan")
        if self.note:
            text.append(f" {self.note}", style="italic")
        return text


class CardList(OptionList):
    """A lane of the board (or the inbox): cards, keeping the highlight across updates."""

    def __init__(self, lane: str, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="lane")
        self.lane = lane
        """``backlog``, ``ready``, a column name, ``done`` or ``inbox``."""
        self.border_title = title
        self._shown: tuple[object, ...] = ()

    def show(self, cards: Sequence[Card], title: str, subtitle: str = "") -> None:
        """Render ``cards``; keep the highlighted card (by id) when it is still there.

        ``title`` goes on the top border, ``subtitle`` (counts, limits) on the bottom one.
        """
        self.border_title = title
        self.border_subtitle = subtitle
        signature = tuple((c.prefix, c.item.id, c.render().plain) for c in cards)
        if signature == self._shown:
            return
        self._shown = signature
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        index = self.highlighted
        scroll = self.scroll_y
        options = [Option(c.render(), id=f"{c.prefix}-{c.item.id}") for c in cards]
        self.set_options(options)
        ids = [o.id for o in options]
        if keep in ids:
            self.highlighted = ids.index(keep)
        elif options and index is not None:
            self.highlighted = min(index, len(options) - 1)
        self.scroll_to(y=scroll, animate=False, immediate=True)

    @property
    def selected_item(self) -> int | None:
        """The id of the highlighted card's item."""
        return item_of(self.highlighted_option)

    @property
    def selected_kind(self) -> str | None:
        """The prefix of the highlighted card's id (``item``, ``req``, ``q``)."""
        option = self.highlighted_option
        if option is None or option.id is None:
            return None
        return option.id.rsplit("-", 1)[0]

    def select_item(self, item_id: int) -> bool:
        """Highlight an item's card and scroll it into view; False when it is not here."""
        for index, option in enumerate(self.options):
            if item_of(option) == item_id:
                self.highlighted = index
                self.scroll_to_highlight()
                return True
        return False
