"""Scenario files: the format, reading YAML and JSON, friendly errors, loading.

A scenario is a validated, immutable description of a product, its team, its
stakeholders and its luck (distributions), separate from the live simulation
built from it (see :mod:`posim.engine`).  YAML is read with ``yaml.safe_load``
semantics only (never a loader that can build Python objects); JSON works too.

Every problem is reported at once, one line each, as
``file:line: dotted.path: message`` (see :class:`ScenarioError`).

The package has one idea per module: :mod:`~posim.scenario.models` (the
format and its limits), :mod:`~posim.scenario.reader` (line-numbered YAML and
JSON), :mod:`~posim.scenario.problems` (friendly errors) and
:mod:`~posim.scenario.loading` (files, built-in scenarios, the JSON Schema).
Every name is importable from ``posim.scenario`` as before.
"""

from __future__ import annotations

from posim.scenario.loading import (
    SCHEMA_ID,
    builtin_files,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)
from posim.scenario.models import (
    FORMAT_VERSION,
    MAX_COLUMNS,
    MAX_DIGITS,
    MAX_FILE_BYTES,
    MAX_HORIZON_DAYS,
    MAX_ITEMS,
    MAX_MEMBERS,
    MAX_REVIEWS,
    MAX_STAKEHOLDERS,
    MAX_TOTAL_ITEMS,
    MAX_YAML_NODES,
    MIN_PERIOD_DAYS,
    MIN_REQUEST_GAP_DAYS,
    MIN_SPRINT_DAYS,
    BacklogItem,
    Cadence,
    Column,
    Constant,
    CrossCheckError,
    Distribution,
    DistributionModel,
    Effect,
    Empirical,
    Event,
    Exponential,
    GeneratedItems,
    Lognormal,
    Member,
    Normal,
    PathTuple,
    Product,
    ProductOwner,
    RequestSpec,
    Scenario,
    SkillGain,
    Slippage,
    Stakeholder,
    Template,
    Triangular,
    Uniform,
    Weibull,
    dist_mean,
)
from posim.scenario.problems import (
    REPAIR_ROUNDS,
    Problem,
    ScenarioError,
)
from posim.scenario.reader import (
    printable,
)

__all__ = [
    "FORMAT_VERSION",
    "MAX_COLUMNS",
    "MAX_DIGITS",
    "MAX_FILE_BYTES",
    "MAX_HORIZON_DAYS",
    "MAX_ITEMS",
    "MAX_MEMBERS",
    "MAX_REVIEWS",
    "MAX_STAKEHOLDERS",
    "MAX_TOTAL_ITEMS",
    "MAX_YAML_NODES",
    "MIN_PERIOD_DAYS",
    "MIN_REQUEST_GAP_DAYS",
    "MIN_SPRINT_DAYS",
    "REPAIR_ROUNDS",
    "SCHEMA_ID",
    "BacklogItem",
    "Cadence",
    "Column",
    "Constant",
    "CrossCheckError",
    "Distribution",
    "DistributionModel",
    "Effect",
    "Empirical",
    "Event",
    "Exponential",
    "GeneratedItems",
    "Lognormal",
    "Member",
    "Normal",
    "PathTuple",
    "Problem",
    "Product",
    "ProductOwner",
    "RequestSpec",
    "Scenario",
    "ScenarioError",
    "SkillGain",
    "Slippage",
    "Stakeholder",
    "Template",
    "Triangular",
    "Uniform",
    "Weibull",
    "builtin_files",
    "builtin_scenarios",
    "dist_mean",
    "load_scenario",
    "parse_scenario",
    "printable",
    "scenario_json_schema",
]
