"""The scenario format: pydantic models of a scenario file, and its limits.

A scenario is a validated, immutable description of a product, its team, its
stakeholders and its luck (distributions), separate from the live simulation
built from it (see :mod:`posim.engine`).  Every model is frozen and rejects
unknown keys; the cross-checks between fields (names that must exist, the
work a scenario implies) raise :class:`CrossCheckError`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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


PathTuple = tuple[str | int, ...]
"""A location inside a scenario document: keys and list indexes, outermost first."""
