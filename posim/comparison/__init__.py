"""Compare strategies, sweep a parameter, and find the best order of a small backlog.

The analyst's toolbox behind ``posim compare`` and ``posim sweep``:

* :func:`compare` runs every strategy on the same replication seeds (common
  random numbers: replication ``r`` of every strategy gets the same luck) and
  summarises each metric per strategy (mean, Student-t 95 % CI, percentiles)
  and per strategy against the baseline, the first one given: the paired-t
  interval of ``strategy - baseline`` over replications.  With more than one
  comparison (more than two strategies) every interval is Bonferroni-adjusted
  so that, for one metric, all of them hold together with 95 % confidence
  (Law & Kelton, *Simulation Modeling and Analysis*, §10.3).
* :func:`sweep` runs one strategy over the values of one scenario parameter
  (``workflow.development.wip=1..10``), each value re-validated through the
  scenario models, again on common random numbers.
* :func:`find_best_order` (``posim compare --oracle``) searches every order
  of a small backlog (at most :data:`MAX_ORACLE_ITEMS` items, all known at
  day 0, no requests) exhaustively, each order run through the engine on the
  same replications, and reports each strategy's regret against the best.

Work is spread by :func:`posim.executors.run_ordered`; results come back keyed
by replication and are reduced in replication order, so the output is the
same, to the byte, for every executor and job count.

The package is ``posim.comparison`` (not ``posim.compare``) so that importing
it never rebinds the package attribute ``posim.compare``, the function; for the
same reason its modules are not named after the functions they hold:

* :mod:`~posim.comparison.common`: limits, :class:`CompareError`, work units;
* :mod:`~posim.comparison.comparing`: :func:`compare` and :class:`Comparison`;
* :mod:`~posim.comparison.oracle`: :func:`find_best_order` and regret;
* :mod:`~posim.comparison.sweeping`: :func:`sweep`, :class:`Setting`, :func:`scenario_with`;
* :mod:`~posim.comparison.files`: :func:`write_comparison`, :func:`write_sweep`.
"""

from posim.comparison.common import (
    CONFIDENCE,
    MAX_ORACLE_ITEMS,
    MAX_ORACLE_SIMULATIONS,
    MAX_SWEEP_VALUES,
    ORACLE_METRICS,
    CompareError,
    Metrics,
    check_strategies,
)
from posim.comparison.comparing import Comparison, compare
from posim.comparison.files import (
    COMPARE_CSV,
    COMPARE_JSON,
    PARTIAL_FILE,
    SWEEP_CSV,
    SWEEP_JSON,
    write_comparison,
    write_sweep,
)
from posim.comparison.oracle import FixedOrder, add_regret, check_oracle, find_best_order
from posim.comparison.sweeping import Setting, Sweep, parse_setting, scenario_with, sweep

__all__ = [
    "COMPARE_CSV",
    "COMPARE_JSON",
    "CONFIDENCE",
    "MAX_ORACLE_ITEMS",
    "MAX_ORACLE_SIMULATIONS",
    "MAX_SWEEP_VALUES",
    "ORACLE_METRICS",
    "PARTIAL_FILE",
    "SWEEP_CSV",
    "SWEEP_JSON",
    "CompareError",
    "Comparison",
    "FixedOrder",
    "Metrics",
    "Setting",
    "Sweep",
    "add_regret",
    "check_oracle",
    "check_strategies",
    "compare",
    "find_best_order",
    "parse_setting",
    "scenario_with",
    "sweep",
    "write_comparison",
    "write_sweep",
]
