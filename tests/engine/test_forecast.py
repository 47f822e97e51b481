"""Monte Carlo forecasts against closed forms, edge cases and a calibration check."""

from __future__ import annotations

import math
import random
import time

import pytest

from posim.engine.forecast import (
    MAX_DAYS_PER_TRIAL,
    PERCENTILES,
    how_many,
    throughput_history,
    when_done,
)


def negative_binomial_days_quantile(successes: int, p: float, level: int) -> int:
    """The smallest d with P(at least `successes` successes in d Bernoulli(p) days) >= level %."""
    days = successes
    while True:
        at_least = sum(
            math.comb(days, k) * p**k * (1 - p) ** (days - k) for k in range(successes, days + 1)
        )
        if at_least >= level / 100:
            return days
        days += 1


def binomial_lower_quantile(days: int, p: float, level: int) -> int:
    """The largest k with P(Binomial(days, p) >= k) >= level %."""
    best = 0
    for k in range(days + 1):
        at_least = sum(
            math.comb(days, j) * p**j * (1 - p) ** (days - j) for j in range(k, days + 1)
        )
        if at_least >= level / 100:
            best = k
    return best


# --- when_done -------------------------------------------------------------------------------


def test_constant_throughput_gives_the_exact_day_at_every_percentile() -> None:
    forecast = when_done([2] * 10, 10, random.Random(1), trials=200)
    assert forecast.kind == "when"
    assert forecast.percentiles == {50: 5.0, 70: 5.0, 85: 5.0, 95: 5.0}
    assert forecast.trials == 200


def test_start_day_shifts_the_forecast_and_partial_days_round_up() -> None:
    # 10 items at 3 a day: 4 days (12 >= 10), counted from day 20.
    forecast = when_done([3, 3, 3], 10, random.Random(1), trials=50, start_day=20)
    assert set(forecast.percentiles.values()) == {24.0}


def test_alternating_history_matches_the_negative_binomial() -> None:
    # Each day finishes 2 items with probability 1/2: 10 items need 5 good days.
    forecast = when_done([0, 2] * 10, 10, random.Random(7), trials=20_000)
    for level in PERCENTILES:
        exact = negative_binomial_days_quantile(5, 0.5, level)
        assert abs(forecast.percentiles[level] - exact) <= 1, level
    # The exact quantiles for the record (P(done by day 9) is exactly 1/2, hence the tolerance).
    closed_form = [negative_binomial_days_quantile(5, 0.5, level) for level in PERCENTILES]
    assert closed_form == [9, 11, 13, 16]


def test_when_percentiles_increase_with_confidence() -> None:
    forecast = when_done([0, 1, 2, 0, 3, 1], 25, random.Random(3))
    days = [forecast.percentiles[level] for level in PERCENTILES]
    assert days == sorted(days)
    assert days[0] < days[-1]


def test_nothing_remaining_is_done_at_the_start() -> None:
    forecast = when_done([1, 2], 0, random.Random(1), start_day=12.5)
    assert set(forecast.percentiles.values()) == {12.5}
    assert forecast.trials == 0
    assert forecast.assumptions.text == "Nothing remains to be done."


@pytest.mark.parametrize("history", [[], [0, 0, 0]])
def test_no_throughput_means_never_and_says_so(history: list[int]) -> None:
    rng = random.Random(1)
    state = rng.getstate()
    forecast = when_done(history, 5, rng)
    assert all(math.isinf(day) for day in forecast.percentiles.values())
    assert set(forecast.percentiles) == set(PERCENTILES)
    assert not forecast.has_data
    assert forecast.trials == 0
    assert "cannot be forecast" in forecast.assumptions.text
    assert rng.getstate() == state  # the stream is untouched


def test_a_trial_that_never_finishes_is_cut_off_as_never() -> None:
    # One item a day in 10,000: 5 items take ~50,000 days, far past the cap.
    history = [0] * 9_999 + [1]
    started = time.perf_counter()
    forecast = when_done(history, 5, random.Random(2), trials=20)
    assert time.perf_counter() - started < 5
    assert forecast.percentiles[50] == math.inf
    assert MAX_DAYS_PER_TRIAL == 5000


def test_seeded_forecasts_reproduce_and_seeds_matter() -> None:
    history = [0, 1, 3, 0, 2, 1, 0, 4]
    first = when_done(history, 30, random.Random(42))
    again = when_done(history, 30, random.Random(42))
    assert first == again
    others = {
        tuple(when_done(history, 30, random.Random(s)).percentiles.values()) for s in range(5)
    }
    assert len(others) > 1


def test_assumptions_describe_the_history() -> None:
    forecast = when_done([0, 1, 2, 0, 3], 4, random.Random(1), trials=300)
    assumptions = forecast.assumptions
    assert assumptions.window_days == 5
    assert assumptions.items_counted == 6
    assert assumptions.throughput_mean == pytest.approx(1.2)
    assert assumptions.zero_days_fraction == pytest.approx(0.4)
    assert assumptions.trials == 300
    assert assumptions.text == (
        "Based on 6 items finished in the last 5 days (1.20 a day, 40% of days with none), "
        "resampled in 300 trials."
    )


@pytest.mark.parametrize(
    ("history", "trials", "message"),
    [([1, -1], 10, "negative"), ([1], 0, "trials"), ([1], 10, "levels")],
)
def test_bad_input_is_rejected(history: list[int], trials: int, message: str) -> None:
    levels = (50, 100) if message == "levels" else PERCENTILES
    with pytest.raises(ValueError, match=message):
        when_done(history, 3, random.Random(1), trials=trials, levels=levels)


def test_fast_enough_for_every_review() -> None:
    history = [0, 1, 2, 1, 0, 3, 1, 1, 0, 2] * 3
    rng = random.Random(5)
    started = time.perf_counter()
    for _ in range(10):
        when_done(history, 30, rng, trials=1000)
    assert (time.perf_counter() - started) / 10 < 0.05


# --- how_many --------------------------------------------------------------------------------


def test_how_many_with_constant_throughput_is_exact() -> None:
    forecast = how_many([2, 2, 2], 7, random.Random(1), trials=100)
    assert forecast.kind == "how_many"
    assert forecast.percentiles == {50: 14.0, 70: 14.0, 85: 14.0, 95: 14.0}


def test_how_many_uses_the_lower_tail_and_matches_the_binomial() -> None:
    forecast = how_many([0, 1], 20, random.Random(11), trials=20_000)
    for level in PERCENTILES:
        exact = binomial_lower_quantile(20, 0.5, level)
        assert abs(forecast.percentiles[level] - exact) <= 1, level
    counts = [forecast.percentiles[level] for level in PERCENTILES]
    assert counts == sorted(counts, reverse=True)  # more confidence, fewer items
    assert counts[0] > counts[-1]
    # For the record: 85 % of 20 fair coins give at least 8 heads, 95 % at least 6.
    closed_form = [binomial_lower_quantile(20, 0.5, level) for level in PERCENTILES]
    assert closed_form == [10, 9, 8, 6]
    assert counts == [10, 9, 8, 6]


@pytest.mark.parametrize(("history", "days"), [([], 10), ([0, 0], 10), ([1, 2], 0)])
def test_how_many_without_throughput_or_days_is_zero(history: list[int], days: int) -> None:
    forecast = how_many(history, days, random.Random(1))
    assert set(forecast.percentiles.values()) == {0.0}
    assert forecast.trials == 0


def test_how_many_reproduces_with_a_seed() -> None:
    history = [0, 1, 3, 0, 2]
    assert how_many(history, 15, random.Random(9)) == how_many(history, 15, random.Random(9))


# --- throughput_history ----------------------------------------------------------------------


def test_throughput_history_counts_whole_days_before_now() -> None:
    done = [0.5, 1.2, 1.9, 3.0, 9.99, 10.0, 10.4]
    # Days 5..9; day 10 is still in progress at 10.5.
    assert throughput_history(done, 10.5, 5) == [0, 0, 0, 0, 1]
    # A longer window than the game so far starts at day 0.
    assert throughput_history(done, 10.5, 20) == [1, 2, 0, 1, 0, 0, 0, 0, 0, 1]
    # At exactly day 11, day 10 is complete.
    assert throughput_history(done, 11.0, 3) == [0, 1, 2]
    assert throughput_history(done, 0.7, 10) == []
    assert throughput_history([], 5, 3) == [0, 0, 0]
    with pytest.raises(ValueError, match="window"):
        throughput_history(done, 5, -1)


# --- calibration -----------------------------------------------------------------------------


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson sampler (small means)."""
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def test_the_85th_percentile_covers_about_85_percent_of_outcomes() -> None:
    # A stationary team finishing Poisson(1) items a day: forecast 20 items from a
    # 100-day history, then let the same process play out and see if it made it.
    seeds = 800
    covered = 0
    for seed in range(seeds):
        world = random.Random(seed)
        history = [poisson(world, 1.0) for _ in range(100)]
        forecast = when_done(history, 20, random.Random(10**6 + seed), trials=500)
        done = days = 0
        while done < 20:
            done += poisson(world, 1.0)
            days += 1
        covered += days <= forecast.percentiles[85]
    assert 0.80 <= covered / seeds <= 0.90
