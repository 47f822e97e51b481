"""The SimPy engine: a team pulling work through a product owner's board.

Never imports Textual or Rich.  See :mod:`posim.engine.simulation`.
"""

from posim.engine.commands import (
    Accept,
    Answer,
    Command,
    CommandError,
    Commit,
    Decline,
    Reorder,
    Report,
    SetWip,
)
from posim.engine.metrics import METRIC_NAMES, Result, item_fields
from posim.engine.randomness import replication_seed
from posim.engine.records import RECORD_FIELDS, Record
from posim.engine.simulation import Simulation, Snapshot, simulate
from posim.engine.strategies import ORDERINGS, REPORTING_POLICIES, StrategyError, parse_spec

__all__ = [
    "METRIC_NAMES",
    "ORDERINGS",
    "RECORD_FIELDS",
    "REPORTING_POLICIES",
    "Accept",
    "Answer",
    "Command",
    "CommandError",
    "Commit",
    "Decline",
    "Record",
    "Reorder",
    "Report",
    "Result",
    "SetWip",
    "Simulation",
    "Snapshot",
    "StrategyError",
    "item_fields",
    "parse_spec",
    "replication_seed",
    "simulate",
]
