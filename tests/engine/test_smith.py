"""Smith's rule: with one member and everything known at day 0, WSJF minimises cost of delay.

Smith (1956): on a single machine with all jobs present, ordering by weight /
processing time (here cost of delay per day / effort) minimises the total
weighted completion time, which is exactly the ``cost_of_delay`` metric when
every item arrives at day 0 and is done before the horizon.  The optimum is
computed here by brute force over every order, independently of the engine.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posim.engine import simulate
from posim.scenario import Scenario

ISSUE_ITEMS = [("A", 3.0, 1.0), ("B", 1.0, 2.0), ("C", 2.0, 3.0), ("D", 4.0, 6.0)]
"""(title, effort days, cost of delay per day) from the foundation issue."""


def single_member_scenario(items: Sequence[tuple[str, float, float]]) -> Scenario:
    """One column, one member at full speed, every item in the backlog at day 0."""
    return Scenario.model_validate(
        {
            "posim": 1,
            "name": "Smith",
            "horizon_days": sum(effort for _, effort, _ in items) + 5,
            "workflow": [{"name": "dev"}],
            "team": [{"name": "Solo", "skills": {"dev": 1.0}}],
            "backlog": [
                {"title": title, "cost_of_delay": cost, "effort": {"dev": effort}}
                for title, effort, cost in items
            ],
        }
    )


def cost_of_order(items: Sequence[tuple[str, float, float]]) -> float:
    """Total cost of delay when one person does ``items`` in this order from day 0."""
    clock, total = 0.0, 0.0
    for _, effort, cost in items:
        clock += effort
        total += cost * clock
    return total


def brute_force_minimum(items: Sequence[tuple[str, float, float]]) -> float:
    """The smallest total cost of delay over every order."""
    return min(cost_of_order(order) for order in itertools.permutations(items))


def test_brute_force_reference_values() -> None:
    """The hand-computed figures of the issue, from the reference function itself."""
    assert cost_of_order(ISSUE_ITEMS) == 89  # A B C D: 3x1 + 4x2 + 6x3 + 10x6
    orders = [cost_of_order(p) for p in itertools.permutations(ISSUE_ITEMS)]
    assert len(orders) == 24
    assert min(orders) == 63  # B C D A (or B D C A: C and D tie on 3/2 = 6/4)
    assert max(orders) == 92  # A C D B: 3x1 + 5x3 + 9x6 + 10x2


@pytest.mark.parametrize(
    ("strategy", "expected", "order"),
    [("fifo", 89, "ABCD"), ("shortest", 77, "BCAD"), ("wsjf", 63, "BCDA")],
)
def test_issue_example(strategy: str, expected: float, order: str) -> None:
    """A (3, 1), B (1, 2), C (2, 3), D (4, 6): 89 fifo, 77 shortest, 63 wsjf = the minimum."""
    result = simulate(single_member_scenario(ISSUE_ITEMS), strategy=strategy, seed=1)
    assert result.metrics["cost_of_delay"] == expected
    done = [r.item for r in result.records if r.kind == "done"]
    assert "".join(ISSUE_ITEMS[i - 1][0] for i in done if i is not None) == order
    assert result.metrics["items_done"] == 4


def test_wsjf_is_the_minimum_over_all_24_orders() -> None:
    """No order does better than wsjf; fifo and shortest are not optimal here."""
    best = brute_force_minimum(ISSUE_ITEMS)
    costs = {
        name: simulate(single_member_scenario(ISSUE_ITEMS), strategy=name, seed=1).metrics[
            "cost_of_delay"
        ]
        for name in ("fifo", "shortest", "wsjf")
    }
    assert costs["wsjf"] == best == 63
    assert costs["fifo"] > best and costs["shortest"] > best


def _check_random_instance(items: list[tuple[str, float, float]]) -> None:
    result = simulate(single_member_scenario(items), strategy="wsjf", seed=1)
    assert result.metrics["items_done"] == len(items)
    assert result.metrics["cost_of_delay"] == pytest.approx(brute_force_minimum(items), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.25, 10, allow_nan=False).map(lambda x: round(x, 2)),
            st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),
        ),
        min_size=3,
        max_size=6,
    )
)
def test_wsjf_matches_brute_force_on_random_instances(pairs: list[tuple[float, float]]) -> None:
    """Hypothesis: 3-6 items with random efforts and costs; wsjf is always optimal."""
    _check_random_instance([(f"I{n}", effort, cost) for n, (effort, cost) in enumerate(pairs)])


def test_wsjf_matches_brute_force_on_seeded_instances() -> None:
    """Seeded random instances with ties and zero costs: wsjf is optimal; fifo often is not."""
    rng = random.Random(20_261_126)
    fifo_worse = 0
    for _ in range(30):
        size = rng.randint(3, 6)
        items = [
            (f"I{n}", float(rng.choice([0.5, 1, 1.5, 2, 3, 5, 8])), float(rng.randint(0, 20)))
            for n in range(size)
        ]
        _check_random_instance(items)
        fifo = simulate(single_member_scenario(items), strategy="fifo", seed=1)
        fifo_worse += fifo.metrics["cost_of_delay"] > brute_force_minimum(items) + 1e-9
    assert fifo_worse >= 20  # the check has teeth: most random backlogs punish fifo
