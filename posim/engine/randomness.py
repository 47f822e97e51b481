"""Random streams: one independent stream per purpose, derived from one root seed.

posim never uses a global RNG.  :class:`Streams` derives a separate
:class:`random.Random` for each ``(purpose, source)`` pair from the root seed by
hashing (SHA-256), so the streams are independent of each other, of the order in
which they are first used, of ``PYTHONHASHSEED`` and of the machine.  Because
each item's luck is drawn from the stream of its *source* (the initial backlog
or one stakeholder) when the item is created, changing the strategy never
changes the luck: common random numbers.
"""

from __future__ import annotations

import hashlib
import random
import secrets

PURPOSES = ("arrivals", "attributes", "slippage", "blockers", "absences", "tiebreak")
"""The purposes streams are kept for (DESIGN section 4)."""


def derive_seed(root: int, *names: str | int) -> int:
    """A 64-bit seed derived from ``root`` and a path of names (stable everywhere)."""
    text = ":".join([str(root), *map(str, names)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def replication_seed(root: int, replication: int) -> int:
    """Seed of replication ``replication`` of a run with root seed ``root``.

    Replication ``r`` of every strategy uses the same seed (common random numbers).
    """
    return derive_seed(root, "replication", replication) % (2**63)


RANDOM_SEED_LIMIT = 1_000_000
"""A seed chosen at random (``posim play --seed random``, "another week") is below this:
six digits a player can read out and a trainer can type."""


def random_seed() -> int:
    """A root seed chosen from the operating system's entropy (not from any posim stream).

    Used only to *pick* a seed for a new game; the game then records it (in its
    save), so it replays exactly.
    """
    return secrets.randbelow(RANDOM_SEED_LIMIT)


class Streams:
    """Lazily created independent random streams keyed by ``(purpose, source)``."""

    __slots__ = ("_streams", "root")

    def __init__(self, root: int) -> None:
        self.root = root
        """The root seed."""
        self._streams: dict[tuple[str, str], random.Random] = {}

    def get(self, purpose: str, source: str = "") -> random.Random:
        """The stream for ``purpose`` (one of :data:`PURPOSES`) and ``source``."""
        key = (purpose, source)
        stream = self._streams.get(key)
        if stream is None:
            stream = random.Random(derive_seed(self.root, purpose, source))
            self._streams[key] = stream
        return stream
