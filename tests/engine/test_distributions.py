"""Samplers draw exactly what the standard library's functions draw."""

from __future__ import annotations

import random

import pytest

from posim.engine.distributions import sampler
from posim.scenario.models import Exponential


@pytest.mark.parametrize("mean", [0.01, 0.25, 1.0, 1 / 2.4, 7.5, 1e6])
def test_the_exponential_sampler_is_expovariate(mean: float) -> None:
    # The sampler inlines random.expovariate (one call less per draw on the
    # hot path): the same numbers, and the same stream afterwards.
    draw = sampler(Exponential.model_validate({"dist": "exponential", "mean": mean}))
    for seed in range(5):
        mine, stdlib = random.Random(seed), random.Random(seed)
        for _ in range(2000):
            assert draw(mine) == stdlib.expovariate(1.0 / mean)
        assert mine.getstate() == stdlib.getstate()
