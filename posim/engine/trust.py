"""The trust rules: how a stakeholder's trust in the product owner moves.

This is the one place that holds them (DESIGN section 2, "Status reports and
trust"); the debrief shows :func:`explain_rules` to the player.  Every function
here is pure: it takes numbers and a :class:`Promise`, and returns a
:class:`TrustChange` (a delta, a short machine ``cause`` and a human sentence
with the numbers).  The engine applies the delta with :func:`apply`, records it,
and checks :func:`escalates` and :func:`fired`.

Trust is a number from 0 to 100 per stakeholder.  The rules, in plain words:

* **On time.**  When a stakeholder's promised items are all done on or before
  the day the last report promised, trust rises by
  :data:`DELIVERY_ON_TIME_GAIN`.
* **Late.**  When they are done after the promised day, trust falls by
  :data:`LATE_PENALTY_PER_DAY` for each day late (fractions count), at most
  :data:`LATE_PENALTY_CAP`.
* **Surprise.**  If the last report still said "on track" when the delivery
  was late, the stakeholder was surprised: the late penalty is multiplied by
  :data:`SURPRISE_MULTIPLIER` and :data:`SURPRISE_PENALTY` is added.  Bad news
  told early is much cheaper than bad news discovered.
* **Re-forecast.**  Reporting a later day than the previous report costs
  :data:`REFORECAST_COST_PER_DAY` per day moved, at most
  :data:`REFORECAST_COST_CAP`, at once.  It replaces the promise, so a delivery
  by the new day counts as on time, and a later delivery is only a surprise if
  the new report again said "on track".  Moving a day earlier costs nothing.
* **Not delivered at the end.**  A promise still open when the game ends counts
  as delivered on the last day (:func:`on_horizon`).
* **Declined request.**  Declining a stakeholder's request costs
  :data:`DECLINE_COST` times their influence factor.
* **Ignored request.**  A request left in the inbox past the stakeholder's
  patience costs :data:`IGNORED_COST` times their influence factor, and again
  for every further patience period it keeps waiting.
* **Missed report.**  A review that passes without a status report for a
  stakeholder costs :data:`MISSED_REPORT_COST`.
* **Influence.**  The influence factor is the stakeholder's influence (1 is a
  typical stakeholder), kept between :data:`MIN_INFLUENCE_FACTOR` and
  :data:`MAX_INFLUENCE_FACTOR`: declining the CEO (influence 3) costs three
  times what declining a typical stakeholder costs.  Delivery, re-forecast and
  report rules do not depend on influence: anyone dislikes a surprise equally,
  and the final trust score weights stakeholders by influence anyway.
* **Escalation.**  When trust falls below :data:`ESCALATION_THRESHOLD`, the
  stakeholder escalates: a meeting that takes :data:`ESCALATION_PO_HOURS` of
  the product owner's attention.  They escalate again only after trust has
  recovered to at least the threshold and fallen below it once more.
* **Let go.**  In career mode, if at the end a stakeholder of the highest
  influence has trust below :data:`FIRED_THRESHOLD`, the product owner is let
  go and the scenario is failed.

Trust always stays between :data:`TRUST_MIN` and :data:`TRUST_MAX`
(:func:`apply` clamps).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

TRUST_MIN: Final = 0.0
"""The lowest trust a stakeholder can have."""

TRUST_MAX: Final = 100.0
"""The highest trust a stakeholder can have."""

DELIVERY_ON_TIME_GAIN: Final = 5.0
"""Trust gained when a promise is delivered on or before its forecast day."""

LATE_PENALTY_PER_DAY: Final = 2.0
"""Trust lost per day (fractions count) a delivery is later than promised."""

LATE_PENALTY_CAP: Final = 20.0
"""The most trust a late delivery costs before the surprise multiplier (10 days late)."""

SURPRISE_MULTIPLIER: Final = 3.0
"""The late penalty is multiplied by this when the last report said "on track"."""

SURPRISE_PENALTY: Final = 5.0
"""Flat trust lost on top of the multiplied late penalty for a surprise."""

REFORECAST_COST_PER_DAY: Final = 0.5
"""Trust lost at once per day a new report moves the forecast day later."""

REFORECAST_COST_CAP: Final = 5.0
"""The most trust one re-forecast costs (10 days moved)."""

DECLINE_COST: Final = 3.0
"""Trust lost when the PO declines a request, times the influence factor."""

IGNORED_COST: Final = 4.0
"""Trust lost per patience period a request waits in the inbox, times the influence factor."""

MISSED_REPORT_COST: Final = 3.0
"""Trust lost when a review passes without a status report for the stakeholder."""

MIN_INFLUENCE_FACTOR: Final = 0.25
"""The smallest influence factor (a stakeholder of influence 0.1 counts as 0.25)."""

MAX_INFLUENCE_FACTOR: Final = 3.0
"""The largest influence factor (a stakeholder of influence 5 counts as 3)."""

ESCALATION_THRESHOLD: Final = 30.0
"""Trust falling below this makes the stakeholder escalate."""

ESCALATION_PO_HOURS: Final = 2.0
"""Hours of the PO's attention an escalation takes (taken from the PO's daily budget)."""

FIRED_THRESHOLD: Final = 10.0
"""Career mode: a most-influential stakeholder below this trust at the end gets the PO let go."""

Status = Literal["on_track", "at_risk", "late"]
"""A status report: on track, at risk, or late."""

STATUSES: Final[tuple[Status, ...]] = ("on_track", "at_risk", "late")
"""Every status a report can give, in order of worsening news."""

Cause = Literal["on_time", "late", "surprise", "reforecast", "declined", "ignored", "missed_report"]
"""The machine key of a trust change (the ``detail`` of a ``trust`` record)."""

CAUSES: Final[tuple[Cause, ...]] = (
    "on_time",
    "late",
    "surprise",
    "reforecast",
    "declined",
    "ignored",
    "missed_report",
)
"""Every cause a :class:`TrustChange` can have."""


@dataclass(frozen=True, slots=True)
class Promise:
    """What the PO last told a stakeholder at a review.

    The engine keeps every promise; the latest one for a stakeholder is the one
    reality is measured against.
    """

    stakeholder: str
    """The stakeholder the report was given to."""
    made_on: float
    """The day the report was given."""
    status: Status
    """The reported status: ``on_track``, ``at_risk`` or ``late``."""
    forecast_day: float
    """The day by which the PO said the items would be done."""
    item_ids: tuple[int, ...] = ()
    """The stakeholder's committed items the promise covers."""

    def __post_init__(self) -> None:
        """Reject a status that is not one of :data:`STATUSES` or a non-finite day."""
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if not math.isfinite(self.forecast_day):
            raise ValueError(f"forecast_day must be a finite day, not {self.forecast_day!r}")


@dataclass(frozen=True, slots=True)
class TrustChange:
    """One change of one stakeholder's trust, with its cause and an explanation."""

    stakeholder: str
    """Whose trust changes."""
    delta: float
    """The change (positive raises trust); apply it with :func:`apply`."""
    cause: Cause
    """A short machine key: one of :data:`CAUSES`."""
    explanation: str
    """A sentence for the debrief, with the numbers."""


def _days(value: float) -> str:
    """A number for a sentence, two decimals at most: ``3``, ``2.5``, ``0.25``."""
    text = f"{round(value, 2):g}"
    return "0" if text == "-0" else text


def _plural(value: float, word: str) -> str:
    """``1 day``, ``2.5 days``."""
    text = _days(value)
    return f"{text} {word}" if text == "1" else f"{text} {word}s"


def _signed(delta: float) -> str:
    """``+5``, ``-2.5``, ``0``."""
    text = _days(abs(delta))
    if text == "0":
        return "0"
    return f"+{text}" if delta > 0 else f"-{text}"


# The rules' own numbers as the sentences show them, made once: a delivery's
# sentence is written at every promise kept or missed.
_ON_TIME_GAIN_TEXT: Final = _signed(DELIVERY_ON_TIME_GAIN)
_SURPRISE_TERMS_TEXT: Final = f"x {_days(SURPRISE_MULTIPLIER)} + {_days(SURPRISE_PENALTY)}"


def influence_factor(influence: float) -> float:
    """How strongly a stakeholder of this influence feels a decline or an ignored request.

    The influence itself (1 is a typical stakeholder), kept between
    :data:`MIN_INFLUENCE_FACTOR` and :data:`MAX_INFLUENCE_FACTOR`.
    """
    return min(MAX_INFLUENCE_FACTOR, max(MIN_INFLUENCE_FACTOR, influence))


def apply(trust: float, delta: float) -> float:
    """Trust after a change, clamped to :data:`TRUST_MIN` .. :data:`TRUST_MAX`."""
    return min(TRUST_MAX, max(TRUST_MIN, trust + delta))


def late_penalty(days_late: float) -> float:
    """The (positive) trust lost for a delivery ``days_late`` days late, without surprise."""
    return min(LATE_PENALTY_CAP, LATE_PENALTY_PER_DAY * max(0.0, days_late))


def _miss(promise: Promise, day: float, what: str) -> TrustChange:
    """The change for a promise met ``day - forecast_day`` days late; ``what`` starts the sentence."""
    days_late = day - promise.forecast_day
    penalty = late_penalty(days_late)
    lateness = (
        f"{what} {_plural(days_late, 'day')} after the promised day {_days(promise.forecast_day)}"
    )
    if promise.status == "on_track":
        delta = -(penalty * SURPRISE_MULTIPLIER + SURPRISE_PENALTY)
        return TrustChange(
            promise.stakeholder,
            delta,
            "surprise",
            f"{lateness} while the last report said on track: {_signed(delta)} (surprise: "
            f"{_days(penalty)} for lateness {_SURPRISE_TERMS_TEXT})",
        )
    status = promise.status.replace("_", " ")
    return TrustChange(
        promise.stakeholder,
        -penalty,
        "late",
        f"{lateness}, as the last report warned ({status}): {_signed(-penalty)} (late)",
    )


def on_delivery(promise: Promise, delivered_day: float) -> TrustChange:
    """Trust change when the last of a promise's items is done on ``delivered_day``.

    On or before :attr:`Promise.forecast_day`: ``+DELIVERY_ON_TIME_GAIN``.  Later:
    ``-min(LATE_PENALTY_CAP, LATE_PENALTY_PER_DAY x days late)``, or when the
    promise said ``on_track`` that times ``SURPRISE_MULTIPLIER`` plus
    ``SURPRISE_PENALTY``.
    """
    if delivered_day <= promise.forecast_day:
        return TrustChange(
            promise.stakeholder,
            DELIVERY_ON_TIME_GAIN,
            "on_time",
            f"Delivered on day {_days(delivered_day)}, on or before the promised day "
            f"{_days(promise.forecast_day)}: {_ON_TIME_GAIN_TEXT} (on time)",
        )
    return _miss(promise, delivered_day, "Delivered")


def on_horizon(promise: Promise, horizon_day: float) -> TrustChange | None:
    """Trust change for a promise still not delivered when the game ends on ``horizon_day``.

    It counts as a delivery on ``horizon_day`` that is late (``None`` when the
    promised day is not yet past: nothing was missed).
    """
    if horizon_day <= promise.forecast_day:
        return None
    return _miss(promise, horizon_day, f"Not delivered by the end (day {_days(horizon_day)}),")


def on_reforecast(old: Promise, new: Promise) -> TrustChange | None:
    """Trust change when a report ``new`` replaces the stakeholder's previous promise ``old``.

    Moving the forecast day later costs ``REFORECAST_COST_PER_DAY`` per day
    moved, at most ``REFORECAST_COST_CAP``; keeping or advancing it costs
    nothing (``None``).  The new promise replaces the old one, which removes
    the surprise of a later delivery unless the new report again says on track.
    """
    if old.stakeholder != new.stakeholder:
        raise ValueError(
            f"a re-forecast replaces a promise to the same stakeholder, "
            f"not {old.stakeholder!r} by {new.stakeholder!r}"
        )
    moved = new.forecast_day - old.forecast_day
    if moved <= 0:
        return None
    cost = min(REFORECAST_COST_CAP, REFORECAST_COST_PER_DAY * moved)
    return TrustChange(
        new.stakeholder,
        -cost,
        "reforecast",
        f"Re-forecast on day {_days(new.made_on)} from day {_days(old.forecast_day)} to day "
        f"{_days(new.forecast_day)} ({_plural(moved, 'day')} later): {_signed(-cost)} "
        "(bad news told early)",
    )


def on_decline(stakeholder: str, influence: float, item_id: int | None = None) -> TrustChange:
    """Trust change when the PO declines a request: ``-DECLINE_COST x influence factor``."""
    factor = influence_factor(influence)
    delta = -DECLINE_COST * factor
    what = "a request" if item_id is None else f"request #{item_id}"
    return TrustChange(
        stakeholder,
        delta,
        "declined",
        f"Declined {what} from {stakeholder} (influence {_days(influence)}): "
        f"{_signed(delta)} ({_days(DECLINE_COST)} x {_days(factor)})",
    )


def on_ignored(
    stakeholder: str,
    influence: float,
    waited_days: float,
    patience_days: float,
    item_id: int | None = None,
) -> TrustChange:
    """Trust change when a request has waited ``waited_days`` past each patience period.

    The engine calls it when the request's wait first reaches the stakeholder's
    patience, and again at every further multiple of it:
    ``-IGNORED_COST x influence factor`` each time.
    """
    factor = influence_factor(influence)
    delta = -IGNORED_COST * factor
    what = "A request" if item_id is None else f"Request #{item_id}"
    return TrustChange(
        stakeholder,
        delta,
        "ignored",
        f"{what} from {stakeholder} (influence {_days(influence)}) waited "
        f"{_plural(waited_days, 'day')} in the inbox (patience {_plural(patience_days, 'day')}):"
        f" {_signed(delta)} ({_days(IGNORED_COST)} x {_days(factor)})",
    )


def on_missed_report(stakeholder: str, review_day: float) -> TrustChange:
    """Trust change when the review on ``review_day`` passed without a report: ``-MISSED_REPORT_COST``."""
    return TrustChange(
        stakeholder,
        -MISSED_REPORT_COST,
        "missed_report",
        f"No status report for {stakeholder} at the review on day {_days(review_day)}: "
        f"{_signed(-MISSED_REPORT_COST)}",
    )


def escalates(before: float, after: float) -> bool:
    """Whether a change from ``before`` to ``after`` makes the stakeholder escalate.

    True when trust crosses from at or above :data:`ESCALATION_THRESHOLD` to below it;
    a stakeholder already below it does not escalate again until it recovers.
    """
    return before >= ESCALATION_THRESHOLD > after


def fired(final: Iterable[tuple[str, float, float]]) -> str | None:
    """Career mode: the stakeholder whose distrust gets the PO let go, or ``None``.

    ``final`` holds ``(name, influence, trust)`` at the end of the game.  The PO
    is let go when a stakeholder of the highest influence has trust below
    :data:`FIRED_THRESHOLD`; of several, the one with the lowest trust (then
    the first given) is named.
    """
    rows = list(final)
    if not rows:
        return None
    top = max(influence for _, influence, _ in rows)
    culprits = [(trust, name) for name, influence, trust in rows if influence == top]
    trust, name = min(culprits, key=lambda row: row[0])
    return name if trust < FIRED_THRESHOLD else None


def influence_weighted_mean(rows: Iterable[tuple[float, float]]) -> float | None:
    """The mean of ``(influence, trust)`` pairs weighted by influence (``None`` if no weight).

    This is the ``trust_mean`` metric: a powerful stakeholder's trust counts more.
    """
    pairs = [(influence, trust) for influence, trust in rows if influence > 0]
    total = sum(influence for influence, _ in pairs)
    if total <= 0:
        return None
    return sum(influence * trust for influence, trust in pairs) / total


def explain_rules() -> list[str]:
    """The trust rules as sentences for the debrief, with the current numbers."""
    return [
        f"Trust runs from {_days(TRUST_MIN)} to {_days(TRUST_MAX)} for each stakeholder.",
        f"Delivering on or before the promised day: +{_days(DELIVERY_ON_TIME_GAIN)}.",
        f"Delivering late: -{_days(LATE_PENALTY_PER_DAY)} per day late, at most "
        f"-{_days(LATE_PENALTY_CAP)}.",
        f"A surprise (late while the last report said on track): the late penalty "
        f"x{_days(SURPRISE_MULTIPLIER)}, plus -{_days(SURPRISE_PENALTY)}.",
        f"Re-forecasting a later day: -{_days(REFORECAST_COST_PER_DAY)} per day moved, at most "
        f"-{_days(REFORECAST_COST_CAP)}, at once; the new day replaces the promise, "
        "so bad news told early avoids the surprise.",
        "A promise still open at the end counts as delivered late on the last day.",
        f"Declining a request: -{_days(DECLINE_COST)} x the stakeholder's influence "
        f"(influence counts between {_days(MIN_INFLUENCE_FACTOR)} and "
        f"{_days(MAX_INFLUENCE_FACTOR)}).",
        f"A request waiting past the stakeholder's patience: -{_days(IGNORED_COST)} x influence, "
        "and again for every further patience period.",
        f"A review with no status report: -{_days(MISSED_REPORT_COST)}.",
        f"Trust below {_days(ESCALATION_THRESHOLD)}: the stakeholder escalates, taking "
        f"{_plural(ESCALATION_PO_HOURS, 'hour')} of the product owner's time.",
        f"Career mode: a most-influential stakeholder below {_days(FIRED_THRESHOLD)} trust at "
        "the end gets the product owner let go.",
    ]


RULES_TEXT: Final = "\n".join(explain_rules())
"""The rules of :func:`explain_rules`, one per line."""


def daily_trust(history: Sequence[tuple[float, float, str]], horizon: float) -> list[float]:
    """Trust at the end of every whole day 1..horizon, from a stakeholder's trust history.

    ``history`` is ``(day, trust after, cause)``, the start first (see
    :attr:`~posim.engine.books.StakeholderState.trust_history`); the values are
    the engine's own, never recomputed.
    """
    days = max(1, int(horizon))
    values = []
    position = 0
    trust = history[0][1] if history else 0.0
    for day in range(1, days + 1):
        while position < len(history) and history[position][0] <= day:
            trust = history[position][1]
            position += 1
        values.append(trust)
    return values
