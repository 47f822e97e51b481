"""Monte Carlo forecasts against closed forms, edge cases and a calibration check."""

from __future__ import annotations

import math
import random

import pytest

from posim.engine import forecast as fc
from posim.engine.forecast import (
    EXACT_MAX_ITEMS,
    MAX_DAYS_PER_TRIAL,
    PERCENTILES,
    DailyThroughput,
    how_many,
    rank,
    throughput_history,
    when_days,
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
    forecast = when_done(history, 5, random.Random(2), trials=20)
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


# --- against an exact computation (issue 15) -------------------------------------------------


def exact_when_quantiles(history: list[int], items: int, levels=PERCENTILES) -> dict[int, float]:
    """min{d : P(S_d >= items) >= p}, S_d the sum of d days drawn from ``history``.

    Written independently of the code under test: plain Python, day by day,
    the distribution of S_d truncated below ``items``.
    """
    counts: dict[int, int] = {}
    for value in history:
        counts[value] = counts.get(value, 0) + 1
    probabilities = {value: n / len(history) for value, n in counts.items()}
    below = [0.0] * items
    below[0] = 1.0
    out: dict[int, float] = {}
    pending = sorted(levels)
    day = 0
    while pending and day < MAX_DAYS_PER_TRIAL:
        day += 1
        step = [0.0] * items
        for total, mass in enumerate(below):
            if mass:
                for value, p in probabilities.items():
                    if total + value < items:
                        step[total + value] += mass * p
        below = step
        done = 1.0 - sum(below)
        while pending and done >= pending[0] / 100 - 1e-12:
            out[pending.pop(0)] = float(day)
    return {level: out.get(level, math.inf) for level in levels}


def exact_how_many_quantiles(history: list[int], days: int, levels=PERCENTILES) -> dict[int, int]:
    """max{c : P(S_days >= c) >= p}, by plain convolution."""
    distribution = {0: 1.0}
    for _ in range(days):
        step: dict[int, float] = {}
        for total, mass in distribution.items():
            for value in history:
                step[total + value] = step.get(total + value, 0.0) + mass / len(history)
        distribution = step
    out = {}
    for level in levels:
        best, tail = 0, 0.0
        for count in sorted(distribution, reverse=True):
            tail += distribution[count]
            if tail >= level / 100 - 1e-12:
                best = count
                break
        out[level] = best
    return out


HISTORIES = {
    "steady": [2, 3, 3, 2, 4, 3, 2, 3],
    "zero-heavy": [0] * 45 + [1] * 10 + [2] * 3 + [5] * 2,
    "mostly-nothing": [0] * 27 + [1] * 3,
    "lumpy": [0] * 50 + [10] * 5 + [3] * 5,
    "even-only": [0, 2, 2, 4, 0, 2],
    # A calendar-day history's weekends (two zero days a week) taken out, as
    # `posim forecast --working-days` does: the same team on working days.
    "working-days": [1, 2, 0, 3, 1, 2, 1, 0, 2, 2],
    "calendar-days": [1, 2, 0, 3, 1, 0, 0, 2, 1, 0, 2, 2, 0, 0],
}


# The Monte Carlo's own noise grows with the spread of T: "mostly-nothing"
# (one item every ten days) has a spread of ~50 days at 30 items, where 10,000
# trials place the median within a day only ~85 % of the time; it is checked at
# small counts (the Edgeworth test below checks it at large ones without noise).
WHEN_CASES = [
    (name, items)
    for name in sorted(HISTORIES)
    for items in (1, 7, 30, 61, 150)
    if name != "mostly-nothing" or items <= 7
]


@pytest.mark.parametrize(("name", "items"), WHEN_CASES)
def test_when_matches_the_exact_convolution_within_a_day(name: str, items: int) -> None:
    history = HISTORIES[name]
    forecast = when_done(history, items, random.Random(items), trials=10_000)
    exact = exact_when_quantiles(history, items)
    for level in PERCENTILES:
        assert abs(forecast.percentiles[level] - exact[level]) <= 1, (level, forecast, exact)


@pytest.mark.parametrize("name", sorted(HISTORIES))
@pytest.mark.parametrize("days", [1, 5, 20])
def test_how_many_matches_the_exact_convolution_within_an_item(name: str, days: int) -> None:
    history = HISTORIES[name]
    forecast = how_many(history, days, random.Random(days), trials=10_000)
    exact = exact_how_many_quantiles(history, days)
    for level in PERCENTILES:
        assert abs(forecast.percentiles[level] - exact[level]) <= 1, (level, forecast, exact)


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_the_edgeworth_approximation_is_within_a_day_of_exact(name: str) -> None:
    # Past EXACT_MAX_ITEMS the distribution of T comes from the Edgeworth
    # expansion: its percentiles against the exact ones, with no sampling
    # noise (the uniforms are the levels themselves).
    daily = DailyThroughput.of(HISTORIES[name])
    if daily.span == 0:
        pytest.skip("a constant history is computed exactly at any size")
    worst = 0.0
    for items in (EXACT_MAX_ITEMS + 1, 90, 150, 400):
        exact = exact_when_quantiles(HISTORIES[name], items)
        approximate = when_days(daily, items, [level / 100 for level in PERCENTILES])
        for level, days in zip(PERCENTILES, approximate, strict=True):
            if math.isinf(exact[level]):
                assert math.isinf(days)
                continue
            worst = max(worst, abs(days - exact[level]))
    assert worst <= 1


def random_histories(count: int, seed: int = 5) -> list[list[int]]:
    """Histories of 5 to 60 days: Poisson-like, lumpy and small uniform counts."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        days = rng.choice([5, 10, 30, 60])
        rate = rng.choice([0.2, 0.5, 1.0, 2.4, 4.0, 9.0])
        kind = rng.random()
        history = [
            min(30, int(rng.expovariate(1 / rate)))
            if kind < 0.5
            else (rng.choice([0, 0, 1, 3, 6]) if kind < 0.8 else rng.randint(0, 5))
            for _ in range(days)
        ]
        if sum(history) > 0 and len(set(history)) > 1:
            out.append(history)
    return out


def test_the_day_by_day_walk_gives_the_doublings_days() -> None:
    # A review's few items are walked day by day in plain Python; the same
    # distribution as numpy's doubling, so the same days (up to rounding, which
    # never moved a day in these 2,000 cases).
    rng = random.Random(11)
    walked = 0
    for history in random_histories(2000):
        daily = DailyThroughput.of(history)
        items = rng.randint(1, EXACT_MAX_ITEMS)
        targets = sorted(rng.random() for _ in range(rng.choice([4, 4, 30])))
        days = fc._walked_when_days(daily, items, targets)
        if days is None:  # too long a walk: left to the doubling
            continue
        walked += 1
        assert days == fc._exact_when_days(daily, items, targets), (history, items)
    assert walked > 500  # the walk is the usual path, not a rarity


def test_the_walk_agrees_with_an_independent_computation() -> None:
    for name, history in HISTORIES.items():
        daily = DailyThroughput.of(history)
        for items in (1, 3, 8):
            days = fc._walked_when_days(daily, items, [level / 100 for level in PERCENTILES])
            if days is None:
                continue
            exact = exact_when_quantiles(history, items)
            assert days == [exact[level] for level in PERCENTILES], (name, items)


def test_daily_throughput_moments_against_statistics() -> None:
    import statistics

    for history in [*HISTORIES.values(), *random_histories(50)]:
        daily = DailyThroughput.of(history)
        assert daily.mean == pytest.approx(statistics.fmean(history))
        assert sum(daily.probabilities) == pytest.approx(1.0)
        assert daily.probabilities[3 if len(daily.probabilities) > 3 else 0] == pytest.approx(
            history.count(3 if len(daily.probabilities) > 3 else 0) / len(history)
        )
        if daily.span:
            assert daily.sd == pytest.approx(statistics.pstdev(history))
            third = sum((x - daily.mean) ** 3 for x in history) / len(history)
            assert daily.skewness == pytest.approx(third / statistics.pstdev(history) ** 3)


def test_a_forecast_draws_one_number_per_trial_whatever_the_backlog() -> None:
    # The old resampling drew a number per day per trial: its cost grew with
    # the items ahead.  Now a review costs `trials` draws for 10 items or 2,000.
    history = [0, 1, 2, 3, 1, 0, 2, 4, 1, 2]
    for items in (10, 2_000):
        rng = random.Random(3)
        reference = random.Random(3)
        when_done(history, items, rng, trials=200)
        for _ in range(200):
            reference.random()
        assert rng.getstate() == reference.getstate()


def test_trial_outcomes_are_kept_on_request_and_match_the_percentiles() -> None:
    history = [0, 1, 2, 0, 3]
    forecast = when_done(history, 40, random.Random(8), trials=1000, keep_outcomes=True)
    assert len(forecast.outcomes) == 1000
    assert list(forecast.outcomes) == sorted(forecast.outcomes)
    for level in PERCENTILES:
        # DESIGN section 9: min{d : #{T_i <= d} >= ceil(p n)}
        needed = -(-level * 1000 // 100)
        smallest = min(
            d for d in forecast.outcomes if sum(t <= d for t in forecast.outcomes) >= needed
        )
        assert forecast.percentiles[level] == smallest
    assert when_done(history, 40, random.Random(8), trials=1000).outcomes == ()
    counts = how_many(history, 12, random.Random(8), trials=1000, keep_outcomes=True)
    for level in PERCENTILES:
        needed = -(-level * 1000 // 100)
        largest = max(c for c in counts.outcomes if sum(x >= c for x in counts.outcomes) >= needed)
        assert counts.percentiles[level] == largest


def test_rank_is_exact_integer_arithmetic() -> None:
    # 0.7 * 10_000 is 7000.000000000001 in floating point: ceil would give 7001.
    assert rank(70, 10_000) == 7000
    assert rank(85, 200) == 170
    assert rank(95, 1) == 1


def test_the_reporters_history_is_the_throughput_history_of_the_done_days() -> None:
    # The board counts the items finished per day as reviews ask (not as items
    # finish): the same history as counting the done days, day for day.
    from posim.engine import Simulation
    from posim.engine.reporting import THROUGHPUT_WINDOW_DAYS
    from posim.scenario import load_scenario

    sim = Simulation(load_scenario("tutorial"), seed=3)
    board = sim.board
    for day in (0.5, 3, 17.25, 40, 75.5, 120):
        sim.run_until(day)
        today = math.floor(sim.now)
        for window in (0, 7, THROUGHPUT_WINDOW_DAYS, 500):
            start = max(0, today - window)
            assert board.throughput(start, today) == throughput_history(
                board.done_days, sim.now, window
            )


@pytest.mark.parametrize("seed", range(12))
def test_the_boards_day_counts_by_bisection_are_the_counts_of_the_done_days(seed: int) -> None:
    # Items finish in bursts, on whole days, on the day of the last call, with
    # empty stretches between; the board is asked between finishes, for windows
    # before, across and past the last finished item's day.
    from posim.engine import Simulation
    from posim.scenario import load_scenario

    board = Simulation(load_scenario("tutorial"), seed=1).board
    done_days = board.done_days
    assert not done_days
    rng = random.Random(seed)
    now = 0.0
    for _ in range(60):
        now += rng.choice([0.0, 0.0, 0.25, 0.5, 1.0, 1.0 - now % 1.0, 3.7, 11.0])
        done_days.extend([now] * rng.choice([0, 1, 1, 2, 5]))
        today = math.floor(now) + rng.choice([0, 0, 1, 4])
        for start, end in [
            (max(0, today - 60), today),
            (0, today),
            (today, today + 3),
            (max(0, today - 2), today + 2),
            (today + 5, today + 2),
            (rng.randrange(today + 1), rng.randrange(today + 6)),
        ]:
            expected = throughput_history(done_days, end, end - start) if end >= start else []
            assert board.throughput(start, end) == expected, (start, end, done_days)


@pytest.mark.parametrize("trials", [1, 15, 16, 17, 200, 1000, 10_000])
def test_bulk_uniforms_are_the_one_by_one_draws(trials: int) -> None:
    # _uniforms draws in bulk from getrandbits: the same numbers, sorted, and
    # the generator left in the same state as `trials` calls of random().
    for seed in range(20):
        bulk, one_by_one = random.Random(seed), random.Random(seed)
        expected = sorted(one_by_one.random() for _ in range(trials))
        assert fc._uniforms(bulk, trials) == expected
        assert bulk.getstate() == one_by_one.getstate()
        assert bulk.random() == one_by_one.random()


def test_one_percentile_alone_is_the_forecasts_percentile() -> None:
    # A strategy's honest report computes only the 85th percentile: the same
    # day as the whole forecast's, from the same numbers, the stream left alike.
    rng = random.Random(23)
    histories = [*random_histories(150, seed=9), [0] * 30, [3] * 30, [0, 0, 0, 1]]
    for history in histories:
        items = rng.choice([0, 1, 2, 5, 12, 40, EXACT_MAX_ITEMS, 61, 150, 900])
        level = rng.choice(PERCENTILES)
        seed = rng.randrange(1000)
        alone, whole = random.Random(seed), random.Random(seed)
        day = fc.when_done_at(history, items, alone, level, trials=200, start_day=17)
        forecast = when_done(history, items, whole, trials=200, start_day=17)
        if not forecast.has_data:
            assert day is None
        else:
            assert day == forecast.percentiles[level], (history, items, level)
        assert alone.getstate() == whole.getstate()


def test_picked_order_statistics_are_the_sorted_draws() -> None:
    for trials in (1, 15, 16, 200, 1000):
        for seed in range(10):
            indices = sorted({rank(level, trials) - 1 for level in PERCENTILES})
            picked = fc._uniforms_at(random.Random(seed), trials, indices)
            uniforms = fc._uniforms(random.Random(seed), trials)
            assert picked == [uniforms[i] for i in indices]


def test_a_strategys_report_is_the_suggestion_shown_to_a_person() -> None:
    # The game shows the whole honest suggestion (with its forecast); a strategy
    # asks without it. Two identical runs, asked at the same moments: the same
    # status and day every time.
    from posim.engine import Simulation
    from posim.scenario import load_scenario

    scenario = load_scenario("launch-date")
    whole, alone = Simulation(scenario, seed=4), Simulation(scenario, seed=4)
    compared = 0
    for day in range(5, int(scenario.horizon_days), 4):
        whole.run_until(day)
        alone.run_until(day)
        for name in whole.books.stakeholders:
            shown = whole.suggested_report(name, "honest")
            reported = alone.suggested_report(name, "honest", with_forecast=False)
            assert (reported.status, reported.forecast_day) == (shown.status, shown.forecast_day)
            assert reported.forecast is None
            compared += shown.forecast is not None and shown.forecast.has_data
    assert compared >= 10


def test_a_daily_throughput_without_moments_is_the_same_distribution() -> None:
    for history in [*HISTORIES.values(), *random_histories(200, seed=3), [4] * 9]:
        full, light = DailyThroughput.of(history), DailyThroughput.of(history, moments=False)
        assert (light.probabilities, light.mean, light.offset, light.span) == (
            full.probabilities,
            full.mean,
            full.offset,
            full.span,
        )
        if full.span == 0:
            assert (light.sd, light.skewness, light.excess_kurtosis) == (0.0, 0.0, 0.0)
        else:
            assert math.isnan(light.sd) and math.isnan(light.skewness)


def test_the_daily_distribution_is_the_tally_of_the_history() -> None:
    # Counted as bytes up to 255 items a day, day by day past it: the same
    # shares, mean, offset and lattice step as a Counter's.
    from collections import Counter

    rng = random.Random(41)
    histories = [*random_histories(150, seed=12), [0, 255, 0], [256, 3], [900] * 4, [7], [0, 5]]
    histories += [[rng.choice([0, 2, 254, 255, 256, 1000]) for _ in range(9)] for _ in range(30)]
    for history in histories:
        tally = Counter(history)
        daily = DailyThroughput.of(history, moments=False)
        days = len(history)
        assert daily.probabilities == tuple(tally[k] / days for k in range(max(history) + 1))
        assert daily.mean == sum(history) / days
        assert daily.offset == min(history)
        assert daily.span == math.gcd(*(k - min(history) for k in tally))
        assert fc._tallies(history) == [tally[k] for k in range(max(history) + 1)]


def test_a_negative_count_is_found_among_counts_of_any_size() -> None:
    for history in ([1, -1], [300, -1], [-300], [0, 255, 256], [5] * 60, [2**70, 0], [0, -(2**70)]):
        assert fc._has_negative(history) == (min(history) < 0)
        if min(history) < 0:
            with pytest.raises(ValueError, match="negative"):
                fc.when_done_at(history, 3, random.Random(1), 85)
