"""Summary statistics and paired comparisons for replicated simulation runs.

Pure Python on purpose: ``import posim`` must stay fast, so nothing here
imports numpy or scipy. Everything is deterministic (no randomness, sums are
exact with :func:`math.fsum`), so the same inputs always give the same floats,
whatever the executor or the order the replications finished in — callers
pass values in replication order.

* :func:`t_quantile` — Student *t* quantile from the regularized incomplete
  beta function, inverted by safeguarded Newton steps, and a Cornish–Fisher
  series above 1e5 degrees of freedom (agrees with ``scipy.stats.t.ppf`` to
  about 1e-12 relative).
* :func:`percentile` — linear interpolation between order statistics,
  Hyndman & Fan type 7, which is numpy's default (``method="linear"``).
* :func:`summary` — mean, t-based 95 % confidence interval and percentiles of
  one metric across replications (``None`` = the metric had no value).
* :func:`paired_difference` — the paired-*t* interval of ``b - a`` over
  replications run on common random numbers, Bonferroni-adjusted when
  several strategies are compared against one baseline (Law & Kelton §10.2).
* :func:`round_floats` — round floats in a nested structure, for display.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "paired_difference",
    "percentile",
    "round_floats",
    "summary",
    "t_quantile",
]

_BETA_EPS = 1e-16
_BETA_MAX_ITERATIONS = 100_000
_TINY = 1e-300
_ASYMPTOTIC_DF = 1e5


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    for m in range(1, _BETA_MAX_ITERATIONS + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _BETA_EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def _log_beta_half(a: float) -> float:
    """ln B(a, 1/2) = ln Γ(a) + ln √π − ln Γ(a + ½), accurate for any a > 0.

    For large ``a`` the lgamma difference cancels catastrophically, so the
    ratio Γ(a + ½) / Γ(a) comes from its Stirling series instead (terms from
    the Bernoulli polynomials; the first omitted one is below 1e-16 at a = 50).
    """
    if a < 50.0:
        return math.lgamma(a) + math.lgamma(0.5) - math.lgamma(a + 0.5)
    log_ratio = (
        0.5 * math.log(a)
        - 1.0 / (8.0 * a)
        + 1.0 / (192.0 * a**3)
        - 1.0 / (640.0 * a**5)
        + 17.0 / (14336.0 * a**7)
    )
    return 0.5 * math.log(math.pi) - log_ratio


def _beta_half_pair(a: float, x: float, y: float) -> tuple[float, float, float]:
    """``(I_x(a, ½), 1 − I_x(a, ½), dI/dx)`` with ``y == 1 − x`` given exactly.

    Taking both ``x`` and ``y`` lets the caller keep full precision when
    either is tiny; the directly computed member of the pair is accurate to
    a few ulps, the other is its complement.
    """
    if x <= 0.0:
        return 0.0, 1.0, 0.0
    if y <= 0.0:
        return 1.0, 0.0, 0.0
    front = math.exp(a * math.log(x) + 0.5 * math.log(y) - _log_beta_half(a))
    density = front / (x * y)
    if x < (a + 1.0) / (a + 2.5):
        value = front * _beta_continued_fraction(a, 0.5, x) / a
        return value, 1.0 - value, density
    complement = front * _beta_continued_fraction(0.5, a, y) / 0.5
    return 1.0 - complement, complement, density


@lru_cache(maxsize=4096)
def _upper_t_quantile(tail: float, centre: float, df: float) -> float:
    """The t > 0 with P(T > t) = ``tail``; ``centre`` is exactly ``0.5 - tail``.

    With x = df / (df + t²) and y = 1 − x = t² / (df + t²), the two-sided
    tail 2·P(T > t) equals I_x(df/2, ½), which grows with x. The unknown is
    whichever of x and y is below ½ at the answer, and the equation compares
    whichever of I_x and 1 − I_x is small there, so t = √(df · y / x) keeps
    full relative precision for tiny and huge t alike. It is solved by Newton
    steps on the logarithms (both sides behave like powers of the unknown),
    safeguarded by a bisection bracket.
    """
    half_df = df / 2.0
    # x < ½ at the answer exactly when t² > df, i.e. the tail at t = √df is larger.
    solve_for_x = _beta_half_pair(half_df, 0.5, 0.5)[0] > 2.0 * tail
    use_value = tail < 0.25  # compare I_x itself, else its complement
    goal = 2.0 * tail if use_value else 2.0 * centre
    # d(compared quantity)/d(unknown) is +density or -density:
    rising = solve_for_x == use_value
    low, high = 0.0, 0.5
    unknown = 0.25
    for _ in range(5000):
        if solve_for_x:
            value, complement, density = _beta_half_pair(half_df, unknown, 1.0 - unknown)
        else:
            value, complement, density = _beta_half_pair(half_df, 1.0 - unknown, unknown)
        compared = value if use_value else complement
        if compared == goal:
            break
        if (compared < goal) == rising:
            low = unknown
        else:
            high = unknown
        step = math.nan
        if compared > 0.0 and density > 0.0:
            slope = density * unknown / compared * (1.0 if rising else -1.0)
            step = (math.log(compared) - math.log(goal)) / slope
        candidate = unknown * math.exp(-step) if abs(step) < 50.0 else math.nan
        if not low < candidate < high:
            candidate = (low + high) / 2.0
            if candidate in (low, high):
                break
        if abs(candidate - unknown) <= 1e-15 * unknown:
            unknown = candidate
            break
        unknown = candidate
    if solve_for_x:
        x, y = unknown, 1.0 - unknown
    else:
        x, y = 1.0 - unknown, unknown
    if x == 0.0:  # the answer is beyond the largest float
        return math.inf
    return math.sqrt(df * y / x)


def _upper_normal_quantile(tail: float, centre: float) -> float:
    """The z > 0 with P(Z > z) = ``tail``; ``centre`` is exactly ``0.5 - tail``.

    Bisection on erfc for small tails and on erf (P(0 < Z < z)) near the
    centre, so either way the compared quantity keeps full relative precision.
    """
    low, high = 0.0, 40.0
    while True:
        middle = (low + high) / 2.0
        if middle in (low, high):
            return middle
        if tail < 0.25:
            too_small = 0.5 * math.erfc(middle / math.sqrt(2.0)) > tail
        else:
            too_small = 0.5 * math.erf(middle / math.sqrt(2.0)) < centre
        if too_small:
            low = middle
        else:
            high = middle


def _t_quantile_large_df(tail: float, centre: float, df: float) -> float:
    """Cornish–Fisher expansion of t around the normal quantile.

    Abramowitz & Stegun 26.7.5; with ``df`` above ``_ASYMPTOTIC_DF`` the first
    omitted term is far below double precision, where the incomplete-beta
    route would lose digits to its very long continued fraction.
    """
    z = _upper_normal_quantile(tail, centre)
    g1 = (z**3 + z) / 4.0
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96.0
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384.0
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160.0
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t distribution with ``df`` degrees of freedom.

    ``t_quantile(0.975, 9)`` is the two-sided 95 % critical value for ten
    observations (2.2621...). Accurate to about 1e-12 relative against
    ``scipy.stats.t.ppf``; results are cached. A quantile beyond the float
    range (say ``p=1e-300`` with ``df=1``) is returned as ±inf.

    Raises:
        ValueError: if ``p`` is not strictly between 0 and 1 or ``df`` is
            not a positive finite number.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile: p must be strictly between 0 and 1, got {p!r}")
    if not (df > 0 and math.isfinite(df)):
        raise ValueError(f"t_quantile: df must be a positive finite number, got {df!r}")
    if p == 0.5:
        return 0.0
    upper = _t_quantile_large_df if df > _ASYMPTOTIC_DF else _upper_t_quantile
    if p > 0.5:
        return upper(1.0 - p, p - 0.5, float(df))
    return -upper(p, 0.5 - p, float(df))


def _present(values: Sequence[float | None]) -> list[float]:
    """The values that are not ``None``, as floats, in their original order."""
    return [float(value) for value in values if value is not None]


def _lerp(low: float, high: float, weight: float) -> float:
    """Linear interpolation computed exactly as numpy's ``_lerp`` does."""
    difference = high - low
    if weight >= 0.5:
        return high - difference * (1.0 - weight)
    return low + difference * weight


def _sorted_percentile(ordered: Sequence[float], q: float) -> float:
    """Type-7 percentile ``q`` (0..100) of already sorted, non-empty values."""
    position = (len(ordered) - 1) * (q / 100.0)
    below = math.floor(position)
    if below >= len(ordered) - 1:
        return ordered[-1]
    return _lerp(ordered[below], ordered[below + 1], position - below)


def percentile(values: Sequence[float | None], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of the values that are not ``None``.

    Linear interpolation between the closest order statistics (Hyndman & Fan
    type 7, numpy's default): position ``(n - 1) * q / 100`` in the sorted
    values. ``None`` when no value is present.
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile: q must be between 0 and 100, got {q!r}")
    present = sorted(_present(values))
    if not present:
        return None
    return _sorted_percentile(present, q)


def _mean(values: Sequence[float]) -> float:
    """Exact-sum mean; a constant sample returns that constant exactly."""
    if min(values) == max(values):
        return values[0]
    return math.fsum(values) / len(values)


def _sample_sd(values: Sequence[float], mean: float) -> float:
    """Sample standard deviation (n - 1 denominator); 0.0 for fewer than two values."""
    if len(values) < 2 or min(values) == max(values):
        return 0.0
    return math.sqrt(math.fsum((value - mean) ** 2 for value in values) / (len(values) - 1))


def _t_interval(mean: float, sd: float, n: int, confidence: float) -> list[float]:
    """Two-sided t interval ``mean ± t · sd / √n``; ``[mean, mean]`` if n < 2 or sd == 0."""
    if n < 2 or sd == 0.0:
        return [mean, mean]
    half_width = t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return [mean - half_width, mean + half_width]


def summary(values: Sequence[float | None]) -> dict[str, Any]:
    """Summarise one metric across replications.

    ``None`` entries (the metric had no value in that run) are left out.
    Returns, in this order, the contract keys ``mean``, ``ci95`` (``[lo, hi]``,
    Student t, 95 %), ``p50``, ``p85``, then ``p95``, ``sd`` (sample, n - 1),
    ``n`` (values present), ``min`` and ``max``. Percentiles interpolate
    linearly (type 7, as numpy). One value gives ``ci95 == [v, v]`` and
    ``sd == 0.0``; no value at all gives ``None`` for every entry but ``n == 0``.
    """
    present = _present(values)
    n = len(present)
    if n == 0:
        return {
            "mean": None,
            "ci95": None,
            "p50": None,
            "p85": None,
            "p95": None,
            "sd": None,
            "n": 0,
            "min": None,
            "max": None,
        }
    ordered = sorted(present)
    mean = _mean(present)
    sd = _sample_sd(present, mean)
    return {
        "mean": mean,
        "ci95": _t_interval(mean, sd, n, 0.95),
        "p50": _sorted_percentile(ordered, 50),
        "p85": _sorted_percentile(ordered, 85),
        "p95": _sorted_percentile(ordered, 95),
        "sd": sd,
        "n": n,
        "min": ordered[0],
        "max": ordered[-1],
    }


def paired_difference(
    a: Sequence[float | None],
    b: Sequence[float | None],
    confidence: float = 0.95,
    comparisons: int = 1,
) -> dict[str, Any]:
    """Paired-t comparison of ``b - a`` over replications (common random numbers).

    ``a[i]`` and ``b[i]`` must come from the same replication (same seeds);
    pairs where either is ``None`` are dropped. With ``comparisons > 1`` the
    interval is Bonferroni-adjusted: each interval has confidence
    ``1 - (1 - confidence) / comparisons``, so all of them hold together with
    at least ``confidence``. The key stays ``ci95`` (the contract name).

    Returns ``mean_diff``, ``ci95`` (``[lo, hi]``), ``n`` (pairs used),
    ``sd_diff``, ``significant`` (the interval excludes zero) and
    ``comparisons``. Identical inputs give ``mean_diff == 0`` and
    ``ci95 == [0, 0]``. One pair gives the degenerate ``[d, d]`` and
    ``significant == False`` (one pair is no evidence); no pair gives
    ``None`` entries.

    Raises:
        ValueError: if ``a`` and ``b`` differ in length, ``confidence`` is not
            strictly between 0 and 1 or ``comparisons`` is less than 1.
    """
    if len(a) != len(b):
        raise ValueError(
            f"paired_difference: a and b must have one value per replication, "
            f"got {len(a)} and {len(b)}"
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(
            f"paired_difference: confidence must be strictly between 0 and 1, got {confidence!r}"
        )
    if comparisons < 1:
        raise ValueError(f"paired_difference: comparisons must be at least 1, got {comparisons!r}")
    differences = [
        float(second) - float(first)
        for first, second in zip(a, b, strict=True)
        if first is not None and second is not None
    ]
    n = len(differences)
    if n == 0:
        return {
            "mean_diff": None,
            "ci95": None,
            "n": 0,
            "sd_diff": None,
            "significant": False,
            "comparisons": comparisons,
        }
    mean_diff = _mean(differences)
    sd_diff = _sample_sd(differences, mean_diff)
    adjusted_confidence = 1.0 - (1.0 - confidence) / comparisons
    low, high = _t_interval(mean_diff, sd_diff, n, adjusted_confidence)
    return {
        "mean_diff": mean_diff,
        "ci95": [low, high],
        "n": n,
        "sd_diff": sd_diff,
        "significant": n >= 2 and (low > 0.0 or high < 0.0),
        "comparisons": comparisons,
    }


def round_floats(obj: Any, ndigits: int = 6) -> Any:
    """A copy of ``obj`` with every float rounded to ``ndigits`` decimals.

    Walks dicts, lists and tuples (tuples become lists, as in JSON); ints,
    bools, strings and ``None`` pass through. ``-0.0`` becomes ``0.0``;
    NaN and infinities are kept.
    """
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return obj
        return round(obj, ndigits) + 0.0
    if isinstance(obj, dict):
        return {key: round_floats(value, ndigits) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [round_floats(value, ndigits) for value in obj]
    return obj
