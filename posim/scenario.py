"""Scenario files: pydantic models of the format, loading and friendly errors.

A scenario is a validated, immutable description of a product, its team, its
stakeholders and its luck (distributions), separate from the live simulation
built from it (see :mod:`posim.engine`).  YAML is read with ``yaml.safe_load``
semantics only (never a loader that can build Python objects); JSON works too.

Every problem is reported at once, one line each, as
``file:line: dotted.path: message`` (see :class:`ScenarioError`).
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

FORMAT_VERSION = 1
"""The scenario format version this posim reads (the ``posim:`` key)."""

MAX_HORIZON_DAYS = 3650.0
"""Hard cap on ``horizon_days`` (ten years of working days)."""
MAX_ITEMS = 20_000
"""Hard cap on explicit plus generated backlog items."""
MAX_TOTAL_ITEMS = 100_000
"""Hard cap on the items a scenario implies: the backlog plus the requests all
stakeholders are expected to send over the horizon (each item costs memory and time)."""
MAX_REVIEWS = 20_000
"""Hard cap on the status reviews a scenario implies (one per stakeholder per
review period over the horizon); a review runs a forecast, the costliest routine."""
MIN_PERIOD_DAYS = 0.1
"""Shortest period of a routine (replenishment, review, a stakeholder's report):
a tenth of a working day, about 48 minutes; 0 keeps its meaning where it has one."""
MIN_SPRINT_DAYS = 1.0
"""Shortest scrum sprint: one working day."""
MIN_REQUEST_GAP_DAYS = 0.01
"""Smallest mean gap between one stakeholder's requests (about five minutes)."""
MAX_DIGITS = 30
"""Longest whole number read from a scenario or save file, in digits (no field needs more)."""
MAX_MEMBERS = 200
"""Hard cap on team members (after ``count`` expansion)."""
MAX_STAKEHOLDERS = 100
"""Hard cap on stakeholders."""
MAX_COLUMNS = 20
"""Hard cap on work columns."""
MAX_FILE_BYTES = 1_000_000
"""Hard cap on the size of a scenario file."""
MAX_YAML_NODES = 200_000
"""Hard cap on YAML nodes after alias expansion (defuses alias bombs)."""


class _Model(BaseModel):
    """Base for every scenario model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# --------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------


class Constant(_Model):
    """Always the same value."""

    dist: Literal["constant"] = Field(description="Distribution name.")
    value: float = Field(ge=0, description="The value.")

    _fin = field_validator("value")(_finite)

    def mean(self) -> float:
        """Expected value."""
        return self.value


class Uniform(_Model):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"] = Field(description="Distribution name.")
    low: float = Field(ge=0, description="Smallest value.")
    high: float = Field(ge=0, description="Largest value.")

    _fin = field_validator("low", "high")(_finite)

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.high) / 2


class Triangular(_Model):
    """Triangular with ``low`` <= ``mode`` <= ``high``."""

    dist: Literal["triangular"] = Field(description="Distribution name.")
    low: float = Field(ge=0, description="Smallest value.")
    mode: float = Field(ge=0, description="Most likely value.")
    high: float = Field(ge=0, description="Largest value.")

    _fin = field_validator("low", "mode", "high")(_finite)

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("need low <= mode <= high")
        return self

    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.mode + self.high) / 3


class Normal(_Model):
    """Normal, truncated at 0 (negative draws are redrawn, then clamped)."""

    dist: Literal["normal"] = Field(description="Distribution name.")
    mean_: float = Field(alias="mean", ge=0, description="Mean before truncation.")
    sd: float = Field(ge=0, description="Standard deviation.")

    _fin = field_validator("mean_", "sd")(_finite)

    def mean(self) -> float:
        """Expected value (before truncation)."""
        return self.mean_


class Lognormal(_Model):
    """Lognormal given by its ``median`` and the ``sigma`` of its logarithm."""

    dist: Literal["lognormal"] = Field(description="Distribution name.")
    median: float = Field(gt=0, description="Median value.")
    sigma: float = Field(ge=0, le=5, description="Standard deviation of the logarithm.")

    _fin = field_validator("median", "sigma")(_finite)

    def mean(self) -> float:
        """Expected value."""
        return self.median * math.exp(self.sigma**2 / 2)


class Exponential(_Model):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"] = Field(description="Distribution name.")
    mean_: float = Field(alias="mean", gt=0, description="Mean value.")

    _fin = field_validator("mean_")(_finite)

    def mean(self) -> float:
        """Expected value."""
        return self.mean_


class Weibull(_Model):
    """Weibull with ``scale`` and ``shape``."""

    dist: Literal["weibull"] = Field(description="Distribution name.")
    scale: float = Field(gt=0, description="Scale (lambda).")
    shape: float = Field(gt=0, description="Shape (k).")

    _fin = field_validator("scale", "shape")(_finite)

    def mean(self) -> float:
        """Expected value."""
        return self.scale * math.gamma(1 + 1 / self.shape)


class Empirical(_Model):
    """Sample uniformly from a list of observed values."""

    dist: Literal["empirical"] = Field(description="Distribution name.")
    values: list[float] = Field(min_length=1, description="Observed values to sample from.")

    @field_validator("values")
    @classmethod
    def _fin_values(cls, values: list[float]) -> list[float]:
        for value in values:
            _finite(value)
            if value < 0:
                raise ValueError("values must be >= 0")
        return values

    def mean(self) -> float:
        """Expected value."""
        return sum(self.values) / len(self.values)


DistributionModel = Annotated[
    Constant | Uniform | Triangular | Normal | Lognormal | Exponential | Weibull | Empirical,
    Field(discriminator="dist"),
]
Distribution = Annotated[
    float | DistributionModel,
    Field(
        description="A number (a constant) or a distribution: "
        "{dist: constant|uniform|triangular|normal|lognormal|exponential|weibull|empirical, ...}."
    ),
]


def _show(value: Any) -> str:
    """``repr(value)``, shortened for huge numbers and long text (a message stays one short line)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_DIGITS:
        return f"a whole number of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _count(value: float) -> str:
    return "infinitely many" if math.isinf(value) else f"{value:,.0f}"


def _days(value: float) -> str:
    return f"{value:.3g}"


def dist_mean(dist: float | DistributionModel) -> float:
    """Expected value of a distribution field (a plain number is a constant)."""
    if isinstance(dist, int | float):
        return float(dist)
    return dist.mean()


def _check_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        if value < 0:
            raise ValueError("must be >= 0")
    return value


# --------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------


class Cadence(_Model):
    """How the product owner's routine is timed."""

    mode: Literal["kanban", "scrum"] = Field(
        default="kanban", description="kanban: continuous flow; scrum: fixed sprints."
    )
    replenish_every: float = Field(
        default=0,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="Kanban: days between replenishment meetings; 0 commits whenever Ready has room; "
        f"otherwise at least {MIN_PERIOD_DAYS:g}.",
    )
    review_every: float = Field(
        default=0,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="Kanban: days between status reviews with stakeholders; 0 means no reviews; "
        f"otherwise at least {MIN_PERIOD_DAYS:g}.",
    )
    sprint_days: float = Field(
        default=10,
        ge=MIN_SPRINT_DAYS,
        le=MAX_HORIZON_DAYS,
        description="Scrum: sprint length in days.",
    )
    focus_factor: float = Field(
        default=0.7,
        gt=0,
        le=1.5,
        description="Scrum: share of the team's nominal capacity that sprint planning commits.",
    )

    _fin = field_validator("replenish_every", "review_every", "sprint_days")(_finite)

    @field_validator("replenish_every", "review_every")
    @classmethod
    def _period(cls, value: float, info: ValidationInfo) -> float:
        if 0 < value < MIN_PERIOD_DAYS:
            zero = (
                "replenish whenever Ready has room"
                if info.field_name == "replenish_every"
                else "no reviews"
            )
            raise ValueError(
                f"must be 0 ({zero}) or at least {MIN_PERIOD_DAYS:g} days (got {_show(value)})"
            )
        return value


class Column(_Model):
    """A work column: one activity, with an optional WIP limit."""

    name: str = Field(min_length=1, max_length=40, description="Activity name, e.g. development.")
    wip: int | None = Field(
        default=None, ge=1, le=10_000, description="WIP limit (items in progress or finished here)."
    )


class Member(_Model):
    """A team member (or ``count`` identical members)."""

    name: str = Field(min_length=1, max_length=40, description="Name shown in the game.")
    count: int = Field(
        default=1, ge=1, le=MAX_MEMBERS, description="How many such members (named Name 1..n)."
    )
    skills: dict[str, float] = Field(
        min_length=1,
        description="Activity -> efficiency (1.0 full speed, 0.5 half speed; absent = cannot).",
    )
    absence_rate: float = Field(
        default=0,
        ge=0,
        le=1,
        description="Chance per working day of falling ill (absent for absence_days).",
    )
    absence_days: Distribution = Field(default=1, description="Length of a random absence in days.")

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float]) -> dict[str, float]:
        for value in skills.values():
            _finite(value)
            if not 0 < value <= 4:
                raise ValueError("efficiencies must be > 0 and <= 4")
        return skills

    _num = field_validator("absence_days", mode="before")(_check_number)


class Slippage(_Model):
    """How work slips. Every field defaults to no slippage."""

    effort_sigma: float = Field(
        default=0,
        ge=0,
        le=3,
        description="Sigma of the lognormal factor: actual = estimate x factor.",
    )
    iceberg_rate: float = Field(
        default=0,
        ge=0,
        le=1,
        description="Chance an item is an iceberg (far bigger than estimated).",
    )
    iceberg_factor: float = Field(
        default=3, ge=1, le=100, description="Effort multiplier of an iceberg."
    )
    defect_rate: float = Field(
        default=0, ge=0, le=1, description="Chance that the last activity finds a defect (rework)."
    )
    rework_fraction: float = Field(
        default=0.3,
        ge=0,
        le=5,
        description="Rework effort as a fraction of the item's effort in the reworked activity.",
    )
    blocker_rate: float = Field(
        default=0, ge=0, le=1, description="Chance an item gets blocked by an external dependency."
    )
    blocker_days: Distribution = Field(default=2, description="How long a blocker lasts (days).")
    question_rate: float = Field(
        default=0,
        ge=0,
        le=1,
        description="Chance an item raises a clarification question when work starts.",
    )
    scope_rate: float = Field(
        default=0, ge=0, le=1, description="Chance new scope is discovered while working an item."
    )
    scope_fraction: Distribution = Field(
        default=0.5,
        description="Discovered scope as a fraction of the item's effort in that activity.",
    )

    _num = field_validator("blocker_days", "scope_fraction", mode="before")(_check_number)


class RequestSpec(_Model):
    """How often a stakeholder sends requests, and what they look like."""

    every: Distribution = Field(description="Days between requests (inter-arrival distribution).")
    template: str = Field(description="Name of the item template the requests follow.")
    first: float = Field(
        default=0,
        ge=0,
        description="Day from which requests start (the first arrives after a gap).",
    )
    until: float | None = Field(default=None, ge=0, description="Day after which requests stop.")
    cls: Literal["standard", "expedite", "fixed_date", "intangible"] | None = Field(
        default=None,
        alias="class",
        description="Class of service of the requests (overrides the template's).",
    )

    _num = field_validator("every", mode="before")(_check_number)

    @field_validator("every")
    @classmethod
    def _gap(cls, every: float | DistributionModel) -> float | DistributionModel:
        mean = dist_mean(every)
        if mean < MIN_REQUEST_GAP_DAYS:
            raise ValueError(
                f"the mean gap between requests must be at least {MIN_REQUEST_GAP_DAYS:g} days "
                f"(got {mean:g})"
            )
        return every


class Stakeholder(_Model):
    """Someone the product owner represents and reports to."""

    name: str = Field(min_length=1, max_length=40, description="Name shown in the game.")
    role: str = Field(default="", max_length=80, description="Role, e.g. Head of Sales.")
    influence: float = Field(default=1, gt=0, le=100, description="Weight of this stakeholder.")
    trust: float = Field(default=60, ge=0, le=100, description="Starting trust (0-100).")
    patience: float = Field(
        default=5, gt=0, le=MAX_HORIZON_DAYS, description="Days a request may wait in the inbox."
    )
    report_every: float | None = Field(
        default=None,
        ge=MIN_PERIOD_DAYS,
        le=MAX_HORIZON_DAYS,
        description="Days between the status reports this stakeholder expects (default: the cadence's review).",
    )
    product: str | None = Field(
        default=None, description="The product this stakeholder belongs to."
    )
    requests: RequestSpec | None = Field(
        default=None, description="Requests this stakeholder sends."
    )


class SkillGain(_Model):
    """A member learns (or improves at) an activity."""

    member: str = Field(description="The member (or group name) who gains the skill.")
    activity: str = Field(description="The activity.")
    efficiency: float = Field(gt=0, le=4, description="The new efficiency in that activity.")


class Effect(_Model):
    """What an item (typically an ``intangible`` improvement) changes when it is done."""

    defect_rate: float | None = Field(
        default=None, ge=-1, le=1, description="Added to the defect rate (e.g. -0.1)."
    )
    blocker_rate: float | None = Field(
        default=None, ge=-1, le=1, description="Added to the blocker rate (e.g. -0.05)."
    )
    speed: dict[str, float] = Field(
        default_factory=dict,
        description="Activity -> multiplier of everyone's efficiency there (e.g. {test: 1.5}).",
    )
    skill: SkillGain | None = Field(default=None, description="A member gains a skill.")

    @field_validator("speed")
    @classmethod
    def _speed(cls, speed: dict[str, float]) -> dict[str, float]:
        for value in speed.values():
            _finite(value)
            if not 0 < value <= 10:
                raise ValueError("speed multipliers must be > 0 and <= 10")
        return speed


class Template(_Model):
    """A recipe for items: each field a number or a distribution."""

    kind: Literal["feature", "defect", "chore", "request"] = Field(
        default="feature", description="Kind of item."
    )
    cls: Literal["standard", "expedite", "fixed_date", "intangible"] = Field(
        default="standard", alias="class", description="Class of service."
    )
    title: str = Field(default="", max_length=120, description="Title prefix of generated items.")
    value: Distribution = Field(default=0, description="Value delivered when done.")
    cost_of_delay: Distribution = Field(default=0, description="Cost of delay per day.")
    effort: dict[str, Distribution] = Field(
        default_factory=dict,
        description="Estimated effort (days) per activity; 0 or absent skips it.",
    )
    due_in: Distribution | None = Field(
        default=None, description="fixed_date items: days from arrival to the due day."
    )
    late_value_loss: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="fixed_date items: fraction of value lost when done after the due day.",
    )
    product: str | None = Field(default=None, description="Product the items belong to.")
    effect: Effect | None = Field(default=None, description="What the items change when done.")

    _num = field_validator("value", "cost_of_delay", "due_in", mode="before")(_check_number)

    @field_validator("effort", mode="before")
    @classmethod
    def _effort_numbers(cls, effort: Any) -> Any:
        if isinstance(effort, dict):
            for value in effort.values():
                _check_number(value)
        return effort


class BacklogItem(_Model):
    """An explicit item in the initial backlog."""

    title: str = Field(min_length=1, max_length=120, description="Title.")
    kind: Literal["feature", "defect", "chore", "request"] = Field(
        default="feature", description="Kind of item."
    )
    cls: Literal["standard", "expedite", "fixed_date", "intangible"] = Field(
        default="standard", alias="class", description="Class of service."
    )
    value: float = Field(default=0, ge=0, description="Value delivered when done.")
    cost_of_delay: float = Field(default=0, ge=0, description="Cost of delay per day.")
    due: float | None = Field(default=None, ge=0, description="Due day (fixed_date items).")
    late_value_loss: float = Field(
        default=0.5, ge=0, le=1, description="Fraction of value lost when done after the due day."
    )
    requester: str | None = Field(default=None, description="The stakeholder who asked for it.")
    product: str | None = Field(default=None, description="Product the item belongs to.")
    effect: Effect | None = Field(default=None, description="What the item changes when done.")
    effort: dict[str, float] = Field(
        default_factory=dict,
        description="Estimated effort (days) per activity; 0 or absent skips it.",
    )

    _fin = field_validator("value", "cost_of_delay", "due")(
        lambda v: v if v is None else _finite(v)
    )

    @field_validator("effort")
    @classmethod
    def _effort(cls, effort: dict[str, float]) -> dict[str, float]:
        for value in effort.values():
            _finite(value)
            if value < 0:
                raise ValueError("efforts must be >= 0")
        return effort


class GeneratedItems(_Model):
    """``generate: N`` items from a template."""

    generate: int = Field(ge=0, le=MAX_ITEMS, description="How many items to generate.")
    template: str = Field(description="Template to generate them from.")
    requester: str | None = Field(default=None, description="Stakeholder who asked for them.")


class Event(_Model):
    """A scripted staff event on a given day."""

    day: float = Field(ge=0, description="Day the event happens.")
    leave: str | None = Field(default=None, description="Member who leaves the team for good.")
    join: Member | None = Field(default=None, description="A member who joins the team.")
    ramp_up_days: float = Field(
        default=0, ge=0, description="join: days until the newcomer works at full speed."
    )
    absent: str | None = Field(default=None, description="Member who is absent for `days` days.")
    days: float = Field(default=1, gt=0, description="absent: how many days.")

    _fin = field_validator("day", "ramp_up_days", "days")(_finite)

    @model_validator(mode="after")
    def _one_action(self) -> Event:
        actions = [a for a in (self.leave, self.join, self.absent) if a is not None]
        if len(actions) != 1:
            raise ValueError("an event needs exactly one of leave, join, absent")
        return self


class Product(_Model):
    """A product with its own backlog and stakeholders (several products share one team)."""

    name: str = Field(min_length=1, max_length=40, description="Product name.")
    description: str = Field(default="", description="What the product is.")


class ProductOwner(_Model):
    """The product owner's time and habits (when a strategy plays the PO)."""

    daily_budget: float | None = Field(
        default=None,
        gt=0,
        le=24,
        description="Hours of PO attention per day; none = attention is never the bottleneck.",
    )
    answer_hours: float = Field(
        default=0.5, ge=0, le=24, description="PO hours to answer a question."
    )
    review_hours: float = Field(
        default=1, ge=0, le=24, description="PO hours a status review takes per stakeholder."
    )
    triage_hours: float = Field(
        default=0.25, ge=0, le=24, description="PO hours to triage a request."
    )
    response_days: float = Field(
        default=0.5,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="Days before a strategy PO answers a question.",
    )
    triage: Literal["accept_all", "value_bar", "cap_backlog"] = Field(
        default="accept_all",
        description="How a strategy PO triages requests: accept all, accept when value per "
        "effort day clears value_bar, or accept while the backlog is shorter than backlog_cap.",
    )
    value_bar: float = Field(
        default=0, ge=0, description="value_bar triage: minimum value per effort day."
    )
    backlog_cap: int = Field(
        default=50, ge=0, description="cap_backlog triage: backlog size limit."
    )


class Scenario(_Model):
    """A posim scenario: the product, team, stakeholders and luck of one game."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={"title": "posim scenario"},
        defer_build=True,
    )

    posim: Literal[1] = Field(description="Format version; this posim reads 1.")
    name: str = Field(min_length=1, max_length=80, description="Scenario name.")
    title: str = Field(
        default="", max_length=120, description="Title shown in menus (default: name)."
    )
    description: str = Field(
        default="", max_length=4000, description="What it is about and its lesson."
    )
    lesson: str = Field(
        default="", max_length=1000, description="The one lesson the scenario teaches."
    )
    level: Literal["junior", "mid", "senior"] = Field(default="junior", description="Career level.")
    seed: int = Field(default=0, ge=0, lt=2**63, description="Default root seed.")
    horizon_days: float = Field(
        gt=0, le=MAX_HORIZON_DAYS, description="Length of the game in working days."
    )
    cadence: Cadence = Field(default_factory=Cadence, description="Kanban or scrum routine.")
    ready_wip: int | None = Field(default=None, ge=1, le=10_000, description="WIP limit of Ready.")
    workflow: list[Column] = Field(
        min_length=1, max_length=MAX_COLUMNS, description="Work columns in order."
    )
    team: list[Member] = Field(min_length=1, description="Team members.")
    slippage: Slippage = Field(default_factory=Slippage, description="How work slips.")
    stakeholders: list[Stakeholder] = Field(
        default_factory=list, max_length=MAX_STAKEHOLDERS, description="Stakeholders."
    )
    products: list[Product] = Field(default_factory=list, description="Products (optional).")
    templates: dict[str, Template] = Field(default_factory=dict, description="Item templates.")
    backlog: list[BacklogItem | GeneratedItems] = Field(
        default_factory=list, description="Initial backlog: explicit items and generated ones."
    )
    events: list[Event] = Field(default_factory=list, description="Scripted staff events.")
    product_owner: ProductOwner = Field(
        default_factory=ProductOwner, description="The PO's time budget and a strategy PO's habits."
    )

    _fin = field_validator("horizon_days")(_finite)

    @property
    def activities(self) -> list[str]:
        """Names of the work columns, in order."""
        return [column.name for column in self.workflow]

    @property
    def display_title(self) -> str:
        """Title for menus."""
        return self.title or self.name

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        activities = self.activities
        known = set(activities)
        if len(known) != len(activities):
            problems.append((("workflow",), "column names must be unique"))
        members = 0
        member_names: set[str] = set()
        workable: set[str] = set()
        for i, member in enumerate(self.team):
            members += member.count
            if member.count == 1:
                member_names.add(member.name)
            else:
                member_names.update(f"{member.name} {n}" for n in range(1, member.count + 1))
                member_names.add(member.name)
            for skill in member.skills:
                if skill not in known:
                    problems.append(
                        (
                            ("team", i, "skills", skill),
                            f"unknown activity {skill!r}; known: {', '.join(activities)}",
                        )
                    )
                workable.add(skill)
        for event in self.events:
            if event.join is not None:
                members += event.join.count
                member_names.add(event.join.name)
                workable.update(event.join.skills)
        if members > MAX_MEMBERS:
            problems.append((("team",), f"at most {MAX_MEMBERS} members (got {members})"))
        stakeholder_names = [s.name for s in self.stakeholders]
        if len(set(stakeholder_names)) != len(stakeholder_names):
            problems.append((("stakeholders",), "stakeholder names must be unique"))
        products = {p.name for p in self.products}

        def check_product(path: tuple[str | int, ...], product: str | None) -> None:
            if product is not None and product not in products:
                problems.append((path, f"unknown product {product!r}"))

        def check_effect(path: tuple[str | int, ...], effect: Effect | None) -> None:
            if effect is None:
                return
            for activity in effect.speed:
                if activity not in known:
                    problems.append(((*path, "speed", activity), f"unknown activity {activity!r}"))
            if effect.skill is not None:
                if effect.skill.activity not in known:
                    problems.append(
                        (
                            (*path, "skill", "activity"),
                            f"unknown activity {effect.skill.activity!r}",
                        )
                    )
                if effect.skill.member not in member_names:
                    problems.append(
                        ((*path, "skill", "member"), f"unknown member {effect.skill.member!r}")
                    )

        def check_efforts(path: tuple[str | int, ...], effort: dict[str, Any]) -> None:
            for activity, amount in effort.items():
                if activity not in known:
                    problems.append(
                        (
                            (*path, activity),
                            f"unknown activity {activity!r}; known: {', '.join(activities)}",
                        )
                    )
                elif activity not in workable and dist_mean(amount) > 0:
                    problems.append(
                        ((*path, activity), f"nobody in the team can work on {activity!r}")
                    )

        for name, template in self.templates.items():
            check_efforts(("templates", name, "effort"), template.effort)
            check_effect(("templates", name, "effect"), template.effect)
            check_product(("templates", name, "product"), template.product)
        for i, stakeholder in enumerate(self.stakeholders):
            check_product(("stakeholders", i, "product"), stakeholder.product)
            if stakeholder.requests and stakeholder.requests.template not in self.templates:
                problems.append(
                    (
                        ("stakeholders", i, "requests", "template"),
                        f"unknown template {stakeholder.requests.template!r}",
                    )
                )
        total_items = 0
        for i, entry in enumerate(self.backlog):
            if isinstance(entry, GeneratedItems):
                total_items += entry.generate
                if entry.template not in self.templates:
                    problems.append(
                        (("backlog", i, "template"), f"unknown template {entry.template!r}")
                    )
                if entry.requester is not None and entry.requester not in stakeholder_names:
                    problems.append(
                        (("backlog", i, "requester"), f"unknown stakeholder {entry.requester!r}")
                    )
            else:
                total_items += 1
                check_efforts(("backlog", i, "effort"), entry.effort)
                check_effect(("backlog", i, "effect"), entry.effect)
                check_product(("backlog", i, "product"), entry.product)
                if entry.requester is not None and entry.requester not in stakeholder_names:
                    problems.append(
                        (("backlog", i, "requester"), f"unknown stakeholder {entry.requester!r}")
                    )
                if entry.cls == "fixed_date" and entry.due is None:
                    problems.append((("backlog", i, "due"), "a fixed_date item needs a due day"))
        if total_items > MAX_ITEMS:
            problems.append((("backlog",), f"at most {MAX_ITEMS} items (got {total_items})"))
        problems.extend(self._work_problems(total_items))
        for i, event in enumerate(self.events):
            for key in ("leave", "absent"):
                target = getattr(event, key)
                if target is not None and target not in member_names:
                    problems.append((("events", i, key), f"unknown member {target!r}"))
            if event.join is not None:
                for skill in event.join.skills:
                    if skill not in known:
                        problems.append(
                            (("events", i, "join", "skills", skill), f"unknown activity {skill!r}")
                        )
        if problems:
            raise CrossCheckError(problems)
        return self

    def _work_problems(self, backlog_items: int) -> list[tuple[tuple[str | int, ...], str]]:
        """The total work the scenario implies: items (backlog and requests) and reviews."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        horizon = self.horizon_days
        requests: list[float] = []
        for stakeholder in self.stakeholders:
            spec = stakeholder.requests
            if spec is None:
                requests.append(0.0)
                continue
            window = max(0.0, min(spec.until or horizon, horizon) - spec.first)
            gap = dist_mean(spec.every)
            requests.append(window / gap if gap > 0 else (math.inf if window else 0.0))
        room = MAX_TOTAL_ITEMS - min(backlog_items, MAX_TOTAL_ITEMS)
        for i, expected in enumerate(requests):
            if expected > room:
                window = expected * dist_mean(self.stakeholders[i].requests.every)  # type: ignore[union-attr]
                problems.append(
                    (
                        ("stakeholders", i, "requests", "every"),
                        f"about {_count(expected)} requests over the horizon; with the backlog's "
                        f"{backlog_items:,} items at most {MAX_TOTAL_ITEMS:,} items in all: "
                        f"raise the mean gap to at least {_days(window / max(room, 1))} days, "
                        "set requests.until or shorten horizon_days",
                    )
                )
        total = sum(requests)
        if not problems and backlog_items + total > MAX_TOTAL_ITEMS:
            problems.append(
                (
                    ("stakeholders",),
                    f"about {_count(backlog_items + total)} items in all (the backlog's "
                    f"{backlog_items:,} and about {_count(total)} requests from "
                    f"{sum(1 for r in requests if r)} stakeholders); at most "
                    f"{MAX_TOTAL_ITEMS:,}: make requests rarer (a larger requests.every), "
                    "fewer stakeholders send them, or shorten horizon_days",
                )
            )
        default_review = (
            self.cadence.sprint_days if self.cadence.mode == "scrum" else self.cadence.review_every
        )
        reviews = 0.0
        for stakeholder in self.stakeholders:
            period = stakeholder.report_every or default_review
            if period > 0:
                reviews += horizon / period
        if reviews > MAX_REVIEWS:
            problems.append(
                (
                    ("stakeholders",),
                    f"about {_count(reviews)} status reviews over the horizon "
                    f"({len(self.stakeholders)} stakeholders); at most {MAX_REVIEWS:,}: "
                    "review less often (a larger cadence.review_every or report_every), "
                    "fewer stakeholders, or a shorter horizon_days",
                )
            )
        return problems


class CrossCheckError(ValueError):
    """Several cross-reference problems found after the fields validated."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems))


# --------------------------------------------------------------------------
# Problems and errors
# --------------------------------------------------------------------------

PathTuple = tuple[str | int, ...]
"""A location inside a scenario document: keys and list indexes, outermost first."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, with where it is."""

    file: str
    """The file name as given (or ``<string>``)."""
    line: int | None
    """1-based line of the offending key or value; ``None`` when unknown."""
    path: str
    """Dotted path of the offending field (``workflow.1.wip``); ``""`` for the whole file."""
    message: str
    """What is wrong, in plain words."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return printable(text)


class ScenarioError(Exception):
    """A scenario could not be loaded; ``problems`` lists every reason, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        """Every problem found, in file order."""
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


# --------------------------------------------------------------------------
# Reading YAML and JSON with line numbers
# --------------------------------------------------------------------------

_MAX_DEPTH = 64
_YAML = "tag:yaml.org,2002:"
_JSON_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_SCALAR_TAGS = frozenset(
    _YAML + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)


class _Stop(Exception):
    """Reading cannot go on (too many nodes, nested too deeply)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _SafeComposer(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's when present): posim only composes nodes with it.

    No constructor for Python objects is ever called: unknown tags are reported,
    never constructed.
    """


def _too_many_digits(digits: int) -> str:
    return f"a whole number of {digits:,} digits; at most {MAX_DIGITS} (no field needs more)"


class _HugeNumber:
    """A JSON whole number too long to read (stands in for it until it is reported)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _json_int(text: str) -> int | _HugeNumber:
    digits = len(text.lstrip("-"))
    return _HugeNumber(digits) if digits > MAX_DIGITS else int(text)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


class _Builder:
    """Turns composed YAML nodes into plain data, recording each path's line."""

    def __init__(self, loader: _SafeComposer) -> None:
        self.loader = loader
        self.lines: dict[PathTuple, int] = {}
        self.problems: list[tuple[PathTuple, int, str]] = []
        self.nodes = 0

    def build(self, node: Any, path: PathTuple, depth: int) -> Any:
        self.nodes += 1
        line = int(node.start_mark.line) + 1
        if self.nodes > MAX_YAML_NODES:
            raise _Stop(f"too many YAML nodes (alias bomb?): at most {MAX_YAML_NODES}")
        if depth > _MAX_DEPTH:
            raise _Stop(
                f"nested too deeply (at most {_MAX_DEPTH} levels; a recursive alias?)", line
            )
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path, line)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _YAML + "seq":
                self.problems.append((path, line, f"unsupported YAML tag {_short_tag(node.tag)!r}"))
                return None
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if node.tag != _YAML + "map":
            self.problems.append((path, line, f"unsupported YAML tag {_short_tag(node.tag)!r}"))
            return None
        return self._mapping(node, path, depth)

    def _scalar(self, node: Any, path: PathTuple, line: int) -> Any:
        tag = str(node.tag)
        if tag not in _SCALAR_TAGS:
            self.problems.append((path, line, f"unsupported YAML tag {_short_tag(tag)!r}"))
            return None
        if tag == _YAML + "str" and not node.style and _JSON_NUMBER.fullmatch(node.value):
            # YAML 1.1 reads 1e3 as text; read it as the number everyone means (YAML 1.2, JSON).
            return float(node.value)
        if tag in (_YAML + "str", _YAML + "timestamp"):
            return str(node.value)
        try:
            if tag == _YAML + "null":
                return None
            if tag == _YAML + "bool":
                if not node.style and str(node.value).lower() not in ("true", "false"):
                    # YAML 1.1 reads yes/no/on/off as booleans; posim reads them as words
                    # (YAML 1.2), so `name: No` stays the text "No".
                    return str(node.value)
                return self.loader.construct_yaml_bool(node)
            if tag == _YAML + "int":
                if len(node.value) > 2 * MAX_DIGITS:
                    raise ValueError(node.value)
                number = self.loader.construct_yaml_int(node)
                if abs(number) >= 10**MAX_DIGITS:
                    self.problems.append((path, line, _too_many_digits(len(str(abs(number))))))
                    return None
                return number
            return self.loader.construct_yaml_float(node)
        except (ValueError, yaml.YAMLError):
            text = str(node.value)
            if len(text) > 2 * MAX_DIGITS and text.lstrip("+-").replace("_", "").isdigit():
                message = _too_many_digits(len(text.lstrip("+-").replace("_", "")))
            else:
                message = f"not a valid number: {_show(text)}"
            self.problems.append((path, line, message))
            return None

    def _mapping(self, node: Any, path: PathTuple, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == _YAML + "merge":
                merges.append(value_node)
                continue
            key_line = int(key_node.start_mark.line) + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self.problems.append((path, key_line, "a key must be a plain word or number"))
                continue
            key = self._scalar(key_node, path, key_line)
            if key in result:
                self.problems.append(((*path, key), key_line, f"duplicate key {key!r}"))
                continue
            self.lines[(*path, key)] = key_line
            result[key] = self.build(value_node, (*path, key), depth + 1)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    line = int(source.start_mark.line) + 1
                    self.problems.append((path, line, "'<<' needs a mapping or a list of mappings"))
                    continue
                merged = self.build(source, path, depth + 1)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        result.setdefault(key, value)
        return result


def _read_yaml(text: str) -> tuple[Any, dict[PathTuple, int], list[tuple[PathTuple, int, str]]]:
    """Parse YAML safely: the data, each path's line, and the problems found on the way."""
    loader = _SafeComposer(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        builder = _Builder(loader)
        data = builder.build(node, (), 0)
        return data, builder.lines, builder.problems
    finally:
        loader.dispose()


def _read_json(
    text: str, filename: str
) -> tuple[Any, dict[PathTuple, int], list[tuple[PathTuple, int | None, str]]]:
    """Parse JSON; lines come from reading the same text as YAML when that works."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    data = json.loads(text, object_pairs_hook=pairs, parse_int=_json_int)
    try:
        _, lines, yaml_problems = _read_yaml(text)
    except (yaml.YAMLError, _Stop, RecursionError):
        lines, yaml_problems = {}, []
    problems: list[tuple[PathTuple, int | None, str]] = []
    if yaml_problems:
        problems.extend(p for p in yaml_problems if p[2].startswith("duplicate key"))
    else:
        problems.extend(((), None, f"duplicate key {key!r}") for key in duplicates)
    return data, lines, problems


# --------------------------------------------------------------------------
# Turning validation errors into problems
# --------------------------------------------------------------------------

_SCALAR_BRANCHES = frozenset({"float", "int", "str", "bool", "none", "literal"})
_DIST_NAMES = (
    "constant",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "exponential",
    "weibull",
    "empirical",
)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _is_branch_label(segment: str | int) -> bool:
    return isinstance(segment, str) and (
        "[" in segment
        or segment in _SCALAR_BRANCHES
        or segment in _DIST_NAMES
        or segment in ("BacklogItem", "GeneratedItems")
    )


def _split_loc(
    loc: tuple[Any, ...], data: Any, kind: str
) -> tuple[PathTuple, PathTuple | None, str]:
    """The data path of an error, the path of the union it failed in, and the branch."""
    path: list[str | int] = []
    current: Any = data
    union_at: PathTuple | None = None
    branch = ""
    for position, segment in enumerate(loc):
        last = position == len(loc) - 1
        if (isinstance(current, dict) and segment in current) or (
            isinstance(current, list)
            and isinstance(segment, int)
            and not isinstance(segment, bool)
            and 0 <= segment < len(current)
        ):
            path.append(segment)
            current = current[segment]
        elif _is_branch_label(segment) and not (last and kind == "missing"):
            if union_at is None:
                union_at, branch = tuple(path), str(segment)
            elif branch.startswith("tagged-union"):
                branch = str(segment)
        else:
            path.append(segment)
            current = None
    return tuple(path), union_at, branch


def _value_at(data: Any, path: PathTuple) -> Any:
    for segment in path:
        if isinstance(data, dict) and segment in data:  # noqa: SIM114 (keeps mypy narrowing)
            data = data[segment]
        elif isinstance(data, list) and isinstance(segment, int) and 0 <= segment < len(data):
            data = data[segment]
        else:
            return None
    return data


def _model_candidates(annotation: Any) -> list[Any]:
    """Model classes reachable from a field annotation without consuming a path segment."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_candidates(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (Union, UnionType):
        found: list[Any] = []
        for arg in get_args(annotation):
            found.extend(_model_candidates(arg))
        return found
    return []


def _container_item(annotation: Any) -> Any:
    """The element annotation of a list or dict annotation (or ``None``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _container_item(get_args(annotation)[0])
    if origin is list:
        return get_args(annotation)[0]
    if origin is dict:
        return get_args(annotation)[1]
    if origin in (Union, UnionType):
        for arg in get_args(annotation):
            item = _container_item(arg)
            if item is not None:
                return item
    return None


def _field_names(model: Any) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _pick_model(candidates: list[Any], value: Any) -> Any:
    if not candidates:
        return None
    if not isinstance(value, dict):
        return candidates[0]
    if "dist" in value:
        for candidate in candidates:
            field = candidate.model_fields.get("dist")
            if field is not None and get_args(field.annotation) == (value["dist"],):
                return candidate
    return min(candidates, key=lambda c: len(set(value) - set(_field_names(c))))


def _model_at(data: Any, path: PathTuple) -> Any:
    """The model class that describes the mapping at ``path`` (best guess for unions)."""
    model: Any = Scenario
    annotation: Any = None
    for depth, segment in enumerate(path):
        if model is not None:
            field = next(
                (
                    info
                    for name, info in model.model_fields.items()
                    if (info.alias or name) == segment
                ),
                None,
            )
            if field is None:
                return None
            annotation, model = field.annotation, None
        else:
            annotation = _container_item(annotation)
            if annotation is None:
                return None
        candidates = _model_candidates(annotation)
        if candidates:
            model = _pick_model(candidates, _value_at(data, path[: depth + 1]))
    return model


def _friendly(error: Any, path: PathTuple, data: Any) -> tuple[PathTuple, str]:
    """The path and a plain-words message for one pydantic error."""
    kind = str(error["type"])
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return path[:-1], f"missing required field {path[-1]!r}"
    if kind == "extra_forbidden":
        message = f"unknown field {path[-1]!r}"
        model = _model_at(data, path[:-1])
        if model is not None:
            allowed = _field_names(model)
            close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            elif len(allowed) <= 12:
                message += f"; allowed: {', '.join(allowed)}"
        return path, message
    if kind == "union_tag_invalid":
        return path, f"unknown distribution {ctx.get('tag')!r}; use one of {', '.join(_DIST_NAMES)}"
    if kind == "union_tag_not_found":
        return path, f"a distribution needs 'dist': one of {', '.join(_DIST_NAMES)}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing"):
        if isinstance(value, float) and kind.startswith("int"):
            return path, f"must be a whole number (got {_show(value)})"
        noun = "a whole number" if kind.startswith("int") else "a number"
        return path, f"expected {noun}, got {_describe(value)}"
    if kind in ("int_from_float",):
        return path, f"must be a whole number (got {_show(value)})"
    if kind in ("string_type", "bool_type", "list_type", "dict_type"):
        nouns = {"string_type": "text", "bool_type": "true or false", "list_type": "a list"}
        return path, f"expected {nouns.get(kind, 'a mapping')}, got {_describe(value)}"
    if kind in ("model_type", "model_attributes_type"):
        return path, f"expected a mapping, got {_describe(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {
            "greater_than": ">",
            "greater_than_equal": ">=",
            "less_than": "<",
            "less_than_equal": "<=",
        }
        bound = next(iter(ctx.values()))
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return path, f"must be {op[kind]} {bound} (got {_show(value)})"
    if kind == "literal_error" and path == ("posim",):
        return path, f"unsupported format version {_show(value)}; this posim reads {FORMAT_VERSION}"
    if kind == "literal_error":
        return path, f"must be {ctx.get('expected')} (got {_show(value)})"
    if kind in ("too_short", "too_long"):
        return path, (
            f"needs at least {ctx.get('min_length')} "
            f"{'entry' if ctx.get('min_length') == 1 else 'entries'}"
            if kind == "too_short"
            else f"at most {ctx.get('max_length')} entries (got {ctx.get('actual_length')})"
        )
    if kind == "string_too_short":
        return path, "must not be empty"
    if kind == "string_too_long":
        return path, f"at most {ctx.get('max_length')} characters"
    if kind == "invalid_key":
        return path, f"keys here must be text, got {_describe(path[-1])}"
    if kind == "finite_number":
        return path, "must be a finite number"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return path, str(ctx["error"])
    return path, str(error.get("msg", kind))


def _union_choice(
    errors: list[tuple[PathTuple, PathTuple | None, str, Any]], data: Any
) -> set[int]:
    """Indexes of the errors to keep: for each failed union, the branch the user meant."""
    groups: dict[PathTuple, dict[str, list[int]]] = {}
    for index, (_, union_at, branch, _error) in enumerate(errors):
        if union_at is not None:
            groups.setdefault(union_at, {}).setdefault(branch, []).append(index)
    keep = {index for index, error in enumerate(errors) if error[1] is None}
    for union_at, branches in groups.items():
        value = _value_at(data, union_at)
        if isinstance(value, dict):
            models = {b: ix for b, ix in branches.items() if b not in _SCALAR_BRANCHES}
            if models:
                best = min(models.values(), key=len)
                keep.update(best)
                continue
        keep.add(min(i for ix in branches.values() for i in ix) if branches else -1)
    return keep


def _scalar_or_mapping(union_at: PathTuple, error: Any, branches: list[str]) -> str:
    value = error.get("input")
    if any(b.startswith("tagged-union") or b in _DIST_NAMES for b in branches):
        return (
            f"expected a number or a distribution like {{dist: exponential, mean: 2}}, "
            f"got {_describe(value)}"
        )
    return f"expected a mapping, got {_describe(value)}"


def _validation_problems(exc: ValidationError, data: Any) -> list[tuple[PathTuple, str]]:
    """Plain-words (path, message) pairs for every error in ``exc``."""
    raw = exc.errors(include_url=False)
    split = []
    for error in raw:
        kind = str(error["type"])
        loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":  # a dict key of the wrong type
            loc, error = loc[:-1], {**error, "type": "invalid_key"}
            kind = "invalid_key"
        path, union_at, branch = _split_loc(loc, data, kind)
        split.append((path, union_at, branch, error))
    keep = _union_choice(split, data)
    result: list[tuple[PathTuple, str]] = []
    seen_scalar_unions: set[PathTuple] = set()
    for index, (path, union_at, _branch, error) in enumerate(split):
        if index not in keep:
            continue
        crosscheck = (error.get("ctx") or {}).get("error")
        if isinstance(crosscheck, CrossCheckError):
            result.extend(((*path, *sub), message) for sub, message in crosscheck.problems)
            continue
        if union_at is not None and not isinstance(_value_at(data, union_at), dict):
            if union_at in seen_scalar_unions:
                continue
            seen_scalar_unions.add(union_at)
            branches = [b for p, u, b, _ in split if u == union_at]
            result.append((union_at, _scalar_or_mapping(union_at, error, branches)))
            continue
        result.append(_friendly(error, path, data))
    return result


REPAIR_ROUNDS = 8
"""How many times :func:`_cross_checks_despite` removes broken fields and validates again."""


_NAMED_LISTS = frozenset({"workflow", "team", "stakeholders", "products"})
"""Top-level lists whose entries other fields refer to by name."""


class _Repair:
    """A copy of the data with broken fields dropped, remembering what was dropped."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = copy.deepcopy(data)
        self.original = data
        self.removed: dict[str, list[int]] = {}
        """Top-level list -> original indexes of the entries dropped."""
        self.names: set[str] = set()
        """Names others may refer to that were dropped with their entry (or key)."""
        self.skills_dropped = False

    def _originals(self, name: str) -> list[int]:
        entries = self.original.get(name)
        count = len(entries) if isinstance(entries, list) else 0
        removed = set(self.removed.get(name, ()))
        return [i for i in range(count) if i not in removed]

    def original_path(self, path: PathTuple) -> PathTuple:
        """``path`` in the repaired data as a path in the original data."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            originals = self._originals(path[0])
            if 0 <= path[1] < len(originals):
                return (path[0], originals[path[1]], *path[2:])
        return path

    def drop(self, target: PathTuple) -> bool:
        """Drop the field or top-level list entry at ``target`` (or an enclosing one)."""
        while target:
            parent = _value_at(self.data, target[:-1])
            key = target[-1]
            if isinstance(parent, dict) and key in parent:
                if target[:-1] == ("templates",) and isinstance(key, str):
                    self.names.add(key)
                if len(target) >= 3 and target[0] in _NAMED_LISTS:
                    entry = _value_at(self.data, target[:2])
                    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                        self.names.add(entry["name"])  # e.g. its count: "Dev 2" may be fine
                if len(target) >= 2 and target[-2] == "skills":
                    self.skills_dropped = True
                del parent[key]
                return True
            if (
                isinstance(parent, list)
                and len(target) == 2
                and isinstance(target[0], str)
                and isinstance(key, int)
                and 0 <= key < len(parent)
            ):
                entry = parent.pop(key)
                original = self._originals(target[0])[key]
                self.removed.setdefault(target[0], []).append(original)
                if target[0] in _NAMED_LISTS and isinstance(entry, dict):
                    if isinstance(entry.get("name"), str):
                        self.names.add(entry["name"])
                    if target[0] == "team":
                        self.skills_dropped = True
                return True
            target = target[:-1]
        return False

    def hides(self, message: str) -> bool:
        """Whether a cross-check message may only be a consequence of what was dropped.

        Caps ("at most ...") count what is left, so they are never trusted here.
        """
        if "at most" in message:
            return True
        if self.skills_dropped and message.startswith("nobody in the team can work on"):
            return True
        return any(repr(name) in message or repr(name)[:-1] + " " in message for name in self.names)


def _cross_checks_despite(
    exc: ValidationError, data: Any, reported: list[PathTuple]
) -> list[tuple[PathTuple, str]]:
    """Cross-reference problems hidden behind field errors, so all are reported at once.

    The cross-checks (unknown activities, templates, stakeholders, members…)
    run only once every field is valid.  To report them together with the
    field errors, drop each broken field from a copy of the data (a broken
    required field: the list entry holding it, e.g. one backlog item) and
    validate again; when only cross-check problems remain, they are returned,
    leaving out those at an already reported path and those that may only
    follow from what was dropped (a reference to a dropped member's name).
    A broken required top-level field ends the attempt: nothing is guessed.
    """
    if not isinstance(data, dict):
        return []
    repair = _Repair(data)
    error = exc
    for _ in range(REPAIR_ROUNDS):
        split = []
        for detail in error.errors(include_url=False):
            crosscheck = (detail.get("ctx") or {}).get("error")
            if isinstance(crosscheck, CrossCheckError):
                found = []
                for sub, message in crosscheck.problems:
                    path = repair.original_path(tuple(sub))
                    if repair.hides(message) or any(path[: len(r)] == r for r in reported if r):
                        continue
                    found.append((path, message))
                return found
            kind = str(detail["type"])
            loc = tuple(detail["loc"])
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            path, union_at, branch = _split_loc(loc, repair.data, kind)
            split.append((path, union_at, branch, detail))
        keep = _union_choice(split, repair.data)
        targets = set()
        for index, (path, union_at, _branch, detail) in enumerate(split):
            if index not in keep:
                continue
            if union_at is not None and not isinstance(_value_at(repair.data, union_at), dict):
                path = union_at
            targets.add(path[:-1] if str(detail["type"]) == "missing" else path)
        if () in targets:
            return []
        # Deepest and last first, so dropping one does not move another.
        for target in sorted(targets, key=_sort_key, reverse=True):
            if not repair.drop(target):
                return []
        try:
            Scenario.model_validate(repair.data, strict=True)
        except ValidationError as again:
            error = again
        else:
            return []
    return []


def _sort_key(path: PathTuple) -> tuple[tuple[int, str], ...]:
    return tuple(
        (segment, "") if isinstance(segment, int) else (-1, str(segment)) for segment in path
    )


_FREE_TEXT = frozenset({"description", "lesson"})
"""Fields whose text may span lines (newlines and tabs allowed, other controls not)."""


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``): safe to print to a terminal."""
    if not any(_is_control(char) for char in text):
        return text
    return "".join(repr(char)[1:-1] if _is_control(char) else char for char in text)


def _control_in(text: str, free: bool) -> str | None:
    for char in text:
        if _is_control(char) and not (free and char in "\n\t"):
            return repr(char)[1:-1]
    return None


def _odd_values(data: Any, path: PathTuple = ()) -> list[tuple[PathTuple, str]]:
    """Problems plain data has before any model sees it: non-finite numbers, numbers
    too long to read (each replaced by ``None``) and control characters in text."""
    if isinstance(data, float) and not math.isfinite(data):
        return [(path, "must be a finite number")]
    if isinstance(data, str):
        free = bool(path) and path[-1] in _FREE_TEXT
        control = _control_in(data, free)
        if control is None:
            return []
        allowed = " (only newlines and tabs are allowed here)" if free else ""
        return [(path, f"contains the control character {control}; remove it{allowed}")]
    found: list[tuple[PathTuple, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and (control := _control_in(key, False)) is not None:
                found.append(((*path, key), f"the name contains the control character {control}"))
            if isinstance(value, _HugeNumber):
                data[key] = None
                found.append(((*path, key), _too_many_digits(value.digits)))
            else:
                found.extend(_odd_values(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, _HugeNumber):
                data[i] = None
                found.append(((*path, i), _too_many_digits(value.digits)))
            else:
                found.extend(_odd_values(value, (*path, i)))
    return found


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _line_of(lines: dict[PathTuple, int], path: PathTuple) -> int | None:
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def _dotted(path: PathTuple) -> str:
    return printable(".".join(str(segment) for segment in path))


def _fail(filename: str, message: str, line: int | None = None) -> ScenarioError:
    return ScenarioError([Problem(filename, line, "", message)])


def parse_scenario(text: str | bytes, filename: str = "<string>") -> Scenario:
    """Validate scenario text (YAML, or JSON when ``filename`` ends in ``.json``).

    Raises :class:`ScenarioError` listing every problem, each with its line.
    """
    if isinstance(text, bytes):
        raw = text
        if len(raw) > MAX_FILE_BYTES:
            raise _fail(filename, f"file too large ({len(raw)} bytes; at most {MAX_FILE_BYTES})")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise _fail(filename, "not UTF-8 text", line) from None
    elif len(text) > MAX_FILE_BYTES:
        raise _fail(filename, f"file too large ({len(text)} characters; at most {MAX_FILE_BYTES})")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _fail(filename, "the file is empty", 1)

    found: list[tuple[PathTuple, int | None, str]] = []
    try:
        if filename.lower().endswith(".json"):
            data, lines, found_json = _read_json(text, filename)
            found.extend(found_json)
        else:
            data, lines, found_yaml = _read_yaml(text)
            found.extend(found_yaml)
    except json.JSONDecodeError as exc:
        raise _fail(filename, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        mark_line = None if mark is None else int(mark.line) + 1
        message = f"invalid YAML: {exc.problem or exc}"
        if exc.context and not str(exc.context).startswith("while"):
            message = f"invalid YAML: {exc.context}, {exc.problem}"
        elif exc.context:
            context = str(exc.context)
            if exc.context_mark is not None and exc.context_mark.line + 1 != mark_line:
                context += f" started on line {exc.context_mark.line + 1}"
            message += f" ({context})"
        raise _fail(filename, message, mark_line) from None
    except yaml.YAMLError as exc:
        raise _fail(filename, f"invalid YAML: {exc}") from None
    except _Stop as exc:
        raise _fail(filename, exc.message, exc.line) from None
    except RecursionError:
        raise _fail(filename, "nested too deeply") from None

    if data is None and not found:
        raise _fail(filename, "the file is empty", 1)
    if not isinstance(data, dict):
        if found:
            raise ScenarioError([Problem(filename, line, _dotted(p), m) for p, line, m in found])
        raise _fail(
            filename,
            f"expected a mapping of scenario fields (posim: 1, name: ...), got {_describe(data)}",
            lines.get(()),
        )
    for path, message in _odd_values(data):
        found.append((path, _line_of(lines, path), message))

    flagged = [path for path, _, _ in found]
    try:
        scenario = Scenario.model_validate(data, strict=True)
    except ValidationError as exc:
        problems_found = _validation_problems(exc, data)
        problems_found += _cross_checks_despite(exc, data, [p for p, _ in problems_found])
        for path, message in problems_found:
            if any(path[: len(f)] == f for f in flagged if f):
                continue  # already reported while reading (NaN, unsupported tag, ...)
            if message == "must be a finite number" and any(
                f[: len(path)] == path for f in flagged
            ):
                continue
            found.append((path, _line_of(lines, path), message))
    else:
        if not found:
            return scenario
    problems = [Problem(filename, line, _dotted(path), message) for path, line, message in found]
    problems = list(dict.fromkeys(problems))
    problems.sort(key=lambda p: p.line if p.line is not None else 0)
    raise ScenarioError(problems)


def _builtin_folder() -> Traversable:
    """The package ``posim.scenarios``; in a source checkout that is not installed, ``scenarios/``."""
    try:
        return resources.files("posim.scenarios")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "scenarios"


def builtin_files() -> dict[str, Traversable]:
    """The built-in scenario files by name (``tutorial`` -> its YAML file)."""
    folder = _builtin_folder()
    return {
        entry.name.rsplit(".", 1)[0]: entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith((".yaml", ".yml", ".json"))
    }


def load_scenario(source: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a file path or a built-in scenario's name (e.g. ``tutorial``).

    Raises :class:`ScenarioError` listing every problem, each as
    ``file:line: dotted.path: message``.
    """
    name = os.fspath(source)
    path = Path(name)
    builtins = builtin_files()
    if not path.suffix and not path.exists() and name in builtins:
        entry = builtins[name]
        return parse_scenario(entry.read_bytes(), entry.name)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(name, f"file too large ({size} bytes; at most {MAX_FILE_BYTES})")
        with path.open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = ""
        if not path.suffix and isinstance(exc, FileNotFoundError):
            hint = f" (built-in scenarios: {', '.join(sorted(builtins))})"
        raise _fail(name, f"cannot read: {reason}{hint}") from None
    return parse_scenario(content, name)


def builtin_scenarios() -> list[dict[str, str]]:
    """The built-in scenarios as ``{"name", "title", "level", "description"}``, tutorial first."""
    result = []
    for name, entry in builtin_files().items():
        scenario = parse_scenario(entry.read_bytes(), entry.name)
        result.append(
            {
                "name": name,
                "title": scenario.display_title,
                "level": scenario.level,
                "description": scenario.description,
            }
        )
    levels = {"junior": 0, "mid": 1, "senior": 2}
    result.sort(key=lambda s: (s["name"] != "tutorial", levels[s["level"]], s["name"]))
    return result


SCHEMA_ID = "urn:posim:scenario-schema:1"
"""The ``$id`` of the published scenario JSON Schema."""


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (what ``posim schema`` prints)."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
