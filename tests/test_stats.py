"""Tests for posim.stats: t quantiles, summaries and paired comparisons against scipy/numpy."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

import posim.stats
from posim.stats import paired_difference, percentile, round_floats, summary, t_quantile

CRITICAL_PS = [0.975, 0.99, 0.995, 0.9975] + [1 - 0.025 / k for k in range(1, 11)]


def test_t_quantile_matches_scipy_for_every_df_up_to_1000() -> None:
    worst = 0.0
    for df in range(1, 1001):
        for p in CRITICAL_PS:
            expected = float(scipy_stats.t.ppf(p, df))
            worst = max(worst, abs(t_quantile(p, df) - expected) / expected)
    assert worst < 1e-9


@pytest.mark.parametrize("df", [0.5, 1.5, 2.5, 1234.5, 5e4, 99_999, 100_001, 1e6, 1e9])
@pytest.mark.parametrize("p", [1e-12, 0.001, 0.025, 0.3, 0.6, 0.975, 0.9999999])
def test_t_quantile_matches_scipy_for_fractional_and_large_df(df: float, p: float) -> None:
    assert t_quantile(p, df) == pytest.approx(float(scipy_stats.t.ppf(p, df)), rel=1e-9)


def test_t_quantile_known_table_values() -> None:
    assert t_quantile(0.975, 9) == pytest.approx(2.2621571628, abs=1e-9)
    assert t_quantile(0.975, 1) == pytest.approx(12.7062047362, abs=1e-9)
    assert t_quantile(0.995, 30) == pytest.approx(2.7499956536, abs=1e-9)


@pytest.mark.parametrize("p", [0.5 + 1e-12, 0.5 + 1e-9, 0.500001, 0.51, 0.75, 0.9, 0.999999])
def test_t_quantile_closed_forms_for_df_1_and_2(p: float) -> None:
    # df = 1 is the Cauchy distribution: t = tan(π (p - ½)) = 1 / tan(π (1 - p)), the
    # second form being the accurate one near p = 1; df = 2: t = (2p - 1) / sqrt(2 p (1 - p)).
    cauchy = math.tan(math.pi * (p - 0.5)) if p < 0.75 else 1 / math.tan(math.pi * (1 - p))
    assert t_quantile(p, 1) == pytest.approx(cauchy, rel=1e-12)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)


def test_t_quantile_is_antisymmetric_and_zero_at_the_median() -> None:
    assert t_quantile(0.5, 7) == 0.0
    for df in (1, 3, 29, 400):
        # 1/128 and 127/128 are exact complements in binary floating point.
        assert t_quantile(1 / 128, df) == -t_quantile(127 / 128, df)


@pytest.mark.parametrize(("p", "df"), [(0.0, 5), (1.0, 5), (-0.1, 5), (0.9, 0), (0.9, -1)])
def test_t_quantile_rejects_bad_arguments(p: float, df: float) -> None:
    with pytest.raises(ValueError, match="t_quantile"):
        t_quantile(p, df)


def test_t_quantile_rejects_infinite_df() -> None:
    with pytest.raises(ValueError, match="df"):
        t_quantile(0.975, math.inf)


def test_percentile_is_numpy_linear_bit_for_bit() -> None:
    rng = np.random.default_rng(20261126)
    for _ in range(300):
        sample = rng.lognormal(0.0, 1.0, int(rng.integers(1, 40))) * 100
        for q in (0, 5, 33.3, 50, 85, 95, 100):
            assert percentile(list(sample), q) == float(np.percentile(sample, q))


def test_percentile_ignores_none_and_handles_empty() -> None:
    assert percentile([None, 4.0, None, 2.0], 50) == 3.0
    assert percentile([None, None], 50) is None
    assert percentile([], 85) is None
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0], 101)


def test_summary_matches_numpy_and_scipy() -> None:
    values = [3.0, 7.5, 1.25, 9.0, 4.0, 4.0, 12.5, 6.0]
    result = summary(values)
    assert list(result)[:4] == ["mean", "ci95", "p50", "p85"]
    assert set(result) == {"mean", "ci95", "p50", "p85", "p95", "sd", "n", "min", "max"}
    mean = float(np.mean(values))
    sem = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=mean, scale=sem)
    assert result["mean"] == pytest.approx(mean, rel=1e-15)
    assert result["ci95"] == pytest.approx([low, high], rel=1e-12)
    assert result["sd"] == pytest.approx(float(np.std(values, ddof=1)), rel=1e-14)
    for key, q in (("p50", 50), ("p85", 85), ("p95", 95)):
        assert result[key] == float(np.percentile(values, q))
    assert (result["n"], result["min"], result["max"]) == (8, 1.25, 12.5)


def test_summary_drops_none() -> None:
    assert summary([None, 2.0, None, 4.0]) == summary([2.0, 4.0])
    assert summary([None, 2.0, None, 4.0])["n"] == 2


def test_summary_of_one_value_is_a_degenerate_interval() -> None:
    result = summary([None, 41])
    assert result["mean"] == 41.0
    assert result["ci95"] == [41.0, 41.0]
    assert (result["p50"], result["p85"], result["sd"], result["n"]) == (41.0, 41.0, 0.0, 1)


def test_summary_of_constant_values_is_exact() -> None:
    result = summary([0.1] * 7)
    assert result["mean"] == 0.1
    assert result["ci95"] == [0.1, 0.1]
    assert result["sd"] == 0.0


def test_summary_of_nothing_is_all_none() -> None:
    assert summary([None, None]) == {
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
    assert summary([])["n"] == 0


A = [10.0, 12.0, 9.5, 11.0, 13.0, 10.5, 12.5, 9.0, 11.5, 10.0]
B = [11.0, 12.5, 10.5, 11.0, 14.5, 11.0, 13.5, 9.5, 12.0, 11.5]


def test_paired_difference_matches_scipy_paired_t() -> None:
    result = paired_difference(A, B)
    differences = np.array(B) - np.array(A)
    mean = float(differences.mean())
    sem = float(differences.std(ddof=1)) / math.sqrt(len(differences))
    low, high = scipy_stats.t.interval(0.95, len(differences) - 1, loc=mean, scale=sem)
    assert result["mean_diff"] == pytest.approx(mean, rel=1e-14)
    assert result["ci95"] == pytest.approx([low, high], rel=1e-12)
    assert result["sd_diff"] == pytest.approx(float(differences.std(ddof=1)), rel=1e-14)
    assert result["n"] == 10
    assert result["comparisons"] == 1
    assert list(result)[:2] == ["mean_diff", "ci95"]
    # The interval excludes zero exactly when the two-sided paired t-test rejects at 5 %.
    test = scipy_stats.ttest_rel(B, A)
    assert test.pvalue < 0.05
    assert result["significant"] is True


def test_paired_difference_agrees_with_ttest_rel_on_many_samples() -> None:
    rng = np.random.default_rng(4)
    for _ in range(200):
        n = int(rng.integers(2, 30))
        a = rng.normal(100, 15, n)
        b = a + rng.normal(rng.choice([0.0, 3.0]), 5, n)
        result = paired_difference(list(a), list(b))
        pvalue = float(scipy_stats.ttest_rel(b, a).pvalue)
        if abs(pvalue - 0.05) > 1e-9:
            assert result["significant"] == (pvalue < 0.05)
        assert result["mean_diff"] == pytest.approx(float(np.mean(b - a)), rel=1e-9, abs=1e-12)


def test_bonferroni_uses_alpha_over_comparisons_and_widens() -> None:
    single = paired_difference(A, B)
    triple = paired_difference(A, B, comparisons=3)
    differences = np.array(B) - np.array(A)
    sem = float(differences.std(ddof=1)) / math.sqrt(len(differences))
    expected = scipy_stats.t.interval(1 - 0.05 / 3, 9, loc=float(differences.mean()), scale=sem)
    assert triple["ci95"] == pytest.approx(list(expected), rel=1e-12)
    assert triple["mean_diff"] == single["mean_diff"]
    assert triple["ci95"][0] < single["ci95"][0] < single["ci95"][1] < triple["ci95"][1]
    assert triple["comparisons"] == 3


def test_bonferroni_can_remove_significance() -> None:
    # Chosen so the 95 % interval just excludes zero and the 99.5 % one does not.
    a = [0.0] * 8
    b = [1.0, -0.4, 0.9, 0.2, 1.1, 0.3, 0.8, 0.1]
    assert scipy_stats.ttest_rel(b, a).pvalue < 0.05
    assert scipy_stats.ttest_rel(b, a).pvalue > 0.05 / 10
    assert paired_difference(a, b)["significant"] is True
    assert paired_difference(a, b, comparisons=10)["significant"] is False


def test_paired_difference_of_identical_inputs_is_exactly_zero() -> None:
    result = paired_difference(A, list(A))
    assert result["mean_diff"] == 0.0
    assert result["ci95"] == [0.0, 0.0]
    assert result["sd_diff"] == 0.0
    assert result["significant"] is False


def test_paired_difference_drops_pairs_with_a_none() -> None:
    a = [1.0, None, 3.0, 4.0, 5.0]
    b = [2.0, 7.0, None, 4.5, 7.0]
    assert paired_difference(a, b) == paired_difference([1.0, 4.0, 5.0], [2.0, 4.5, 7.0])
    assert paired_difference(a, b)["n"] == 3


def test_paired_difference_small_samples() -> None:
    one = paired_difference([1.0, None], [3.0, 5.0])
    assert (one["mean_diff"], one["ci95"], one["n"], one["significant"]) == (
        2.0,
        [2.0, 2.0],
        1,
        False,
    )
    none = paired_difference([None, 1.0], [2.0, None])
    assert (none["mean_diff"], none["ci95"], none["n"], none["significant"]) == (
        None,
        None,
        0,
        False,
    )


def test_paired_difference_constant_shift_is_significant() -> None:
    result = paired_difference([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    assert result["ci95"] == [0.5, 0.5]
    assert result["significant"] is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a": [1.0], "b": [1.0, 2.0]}, "one value per replication"),
        ({"a": [1.0], "b": [1.0], "confidence": 1.0}, "confidence"),
        ({"a": [1.0], "b": [1.0], "comparisons": 0}, "comparisons"),
    ],
)
def test_paired_difference_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        paired_difference(**kwargs)


def test_round_floats_rounds_nested_structures_only_floats() -> None:
    data = {"a": 1.23456789, "b": [2.0000004, (3, -1e-9)], "c": None, "d": True, "e": "x"}
    assert round_floats(data) == {
        "a": 1.234568,
        "b": [2.0, [3, 0.0]],
        "c": None,
        "d": True,
        "e": "x",
    }
    assert math.copysign(1.0, round_floats(-1e-9)) == 1.0
    assert round_floats(1.25, 1) == 1.2
    assert math.isnan(round_floats(math.nan))


def test_stats_is_deterministic() -> None:
    values = [0.1 * k for k in range(50)]
    assert summary(values) == summary(list(values))
    assert paired_difference(values, values[::-1]) == paired_difference(values, values[::-1])


def test_stats_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(posim.stats.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "math", "collections", "functools", "typing"}
