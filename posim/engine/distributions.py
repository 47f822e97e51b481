"""Turn scenario distributions into fast samplers.

A sampler is a function ``rng -> float`` compiled once from a scenario field, so
the hot path never inspects models.  Every sampler returns a value >= 0.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from posim.scenario import (
    Constant,
    DistributionModel,
    Empirical,
    Exponential,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)

Sampler = Callable[[random.Random], float]
"""Draws one value from a distribution with the given stream."""


def constant(dist: float | DistributionModel) -> float | None:
    """The value of a distribution that always gives one (None: a random one)."""
    if isinstance(dist, int | float):
        return float(dist)
    if isinstance(dist, Constant):
        return dist.value
    return None


def sampler(dist: float | DistributionModel) -> Sampler:
    """Compile a scenario distribution (or a plain number) into a sampler."""
    fixed = constant(dist)
    if fixed is not None:
        return lambda rng: fixed
    if isinstance(dist, Uniform):
        low, high = dist.low, dist.high
        return lambda rng: low + (high - low) * rng.random()
    if isinstance(dist, Triangular):
        low, mode, high = dist.low, dist.mode, dist.high
        if high == low:
            return lambda rng: low
        return lambda rng: rng.triangular(low, high, mode)
    if isinstance(dist, Normal):
        mu, sd = dist.mean_, dist.sd

        def normal(rng: random.Random) -> float:
            for _ in range(20):
                value = rng.gauss(mu, sd)
                if value >= 0:
                    return value
            return 0.0

        return normal
    if isinstance(dist, Lognormal):
        mu_log, sigma = math.log(dist.median), dist.sigma
        return lambda rng: rng.lognormvariate(mu_log, sigma)
    if isinstance(dist, Exponential):
        rate = 1.0 / dist.mean_
        log = math.log
        # rng.expovariate(rate), without the call (Python 3.11-3.13 compute exactly
        # this; tests/engine/test_distributions.py holds it to expovariate).
        return lambda rng: -log(1.0 - rng.random()) / rate
    if isinstance(dist, Weibull):
        scale, shape = dist.scale, dist.shape
        return lambda rng: rng.weibullvariate(scale, shape)
    if isinstance(dist, Empirical):
        values = tuple(dist.values)
        return lambda rng: values[int(rng.random() * len(values))]
    raise TypeError(f"unknown distribution {dist!r}")
