"""Smoke tests of the benchmark (``python -m benchmarks``): structure and honesty, never speed.

The benchmark lives outside the package, in ``benchmarks/`` at the repository
root.  These tests run it at its toy size and check the report it writes; the
figures themselves are not asserted (no timing assertions in the suite).  They
also check that the bare-SimPy and Ciw models it compares posim with are the
same M/M/3 flow (Erlang C), so the floor is an honest one.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import references, scenarios, timing

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """The JSON report and the printed table of ``python -m benchmarks --tiny``."""
    out = tmp_path_factory.mktemp("bench") / "nested" / "report.json"
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--profile", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    return json.loads(out.read_text(encoding="utf-8")), process.stdout


def test_tiny_report_has_every_part(tiny_report: tuple[dict[str, Any], str]) -> None:
    report, _ = tiny_report
    assert report["mode"] == "tiny"
    assert {"a_mm3", "a2_mm3_reviews", "b_tutorial", "c_backlog", "d_overloaded"} <= set(
        report["flows"]
    )
    assert {"replications", "startup", "memory", "profile", "checks", "machine"} <= set(report)
    assert report["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert report["bytecode"]["compiled"] is True  # posim's modules compiled before timing
    package = Path(report["bytecode"]["package"])
    assert (package / "__pycache__").is_dir() and (package / "engine" / "__pycache__").is_dir()


def test_flow_a2_times_posim_beside_the_textbook_model(
    tiny_report: tuple[dict[str, Any], str],
) -> None:
    """(a'): M/M/3 at 2.4 items a day with reviews, records off and on, beside SimPy and Ciw."""
    report, _ = tiny_report
    flow = report["flows"]["a2_mm3_reviews"]
    cases = flow["cases"]
    assert set(cases) == {"posim", "posim_records", "simpy_resource", "simpy_store", "ciw"}
    assert "a review every 10 days" in flow["flow"]
    # Records change nothing but the record: the same items, the same lead time.
    assert cases["posim"]["items"] == cases["posim_records"]["items"] > 0
    assert cases["posim"]["lead_time_mean"] == cases["posim_records"]["lead_time_mean"]
    assert cases["simpy_store"]["items"] == cases["simpy_resource"]["items"]
    assert flow["records_cost"] == pytest.approx(
        cases["posim_records"]["best_cpu_s"] / cases["posim"]["best_cpu_s"], abs=2e-3
    )
    assert flow["ratio_vs_textbook"] == pytest.approx(
        cases["posim"]["items_per_cpu_s"] / cases["simpy_resource"]["items_per_cpu_s"], abs=2e-3
    )
    (posim_cpu,) = cases["posim"]["cpu_times_s"]  # one repeat at the toy size
    (textbook_cpu,) = cases["simpy_resource"]["cpu_times_s"]
    assert flow["paired_ratio_vs_textbook"] == pytest.approx(
        (cases["posim"]["items"] / posim_cpu) / (cases["simpy_resource"]["items"] / textbook_cpu),
        abs=2e-3,
    )
    checks = {c["check"]: c for c in report["checks"]}
    assert checks["a2_vs_textbook"]["target"] == ">= 0.6"
    assert checks["a2_records_cost"]["target"] == "<= 2"
    assert checks["a2_vs_ciw"]["value"] == flow["ratio_vs_ciw"]


def test_flow_a_compares_posim_with_simpy_and_ciw(tiny_report: tuple[dict[str, Any], str]) -> None:
    report, _ = tiny_report
    flow = report["flows"]["a_mm3"]
    cases = flow["cases"]
    assert set(cases) == {"posim", "posim_2x", "simpy_store", "simpy_resource", "ciw"}
    for case in cases.values():
        assert case["items"] > 0
        assert case["items_per_s"] == pytest.approx(case["items"] / case["best_s"], rel=0.01)
    # Same seed, same streams: the two SimPy models see exactly the same jobs.
    assert cases["simpy_store"]["items"] == cases["simpy_resource"]["items"]
    assert cases["simpy_store"]["lead_time_mean"] == cases["simpy_resource"]["lead_time_mean"]
    assert flow["simpy_floor"] in ("simpy_store", "simpy_resource")
    floor = cases[flow["simpy_floor"]]
    assert flow["ratio_vs_simpy"] == pytest.approx(
        cases["posim"]["items_per_cpu_s"] / floor["items_per_cpu_s"], abs=2e-3
    )
    assert flow["wall_ratio_vs_simpy"] == pytest.approx(
        cases["posim"]["items_per_s"] / floor["items_per_s"], abs=2e-3
    )
    # Twice the horizon: about twice the items (a Poisson stream, 10 vs 20 days).
    assert 1.3 < cases["posim_2x"]["items"] / cases["posim"]["items"] < 3.0


def test_replications_use_both_job_counts_with_identical_output(
    tiny_report: tuple[dict[str, Any], str],
) -> None:
    replications = tiny_report[0]["replications"]
    assert set(replications) == {"tutorial", "heavy"}
    for reps in replications.values():
        assert reps["identical_output"] is True
        assert reps["speedup"] == pytest.approx(
            reps["jobs_1"]["best_s"] / reps["jobs_2"]["best_s"], rel=0.01
        )
        assert reps["jobs_1"]["cpu_s"] > 0


def test_startup_reports_imports_of_the_help_paths(tiny_report: tuple[dict[str, Any], str]) -> None:
    start = tiny_report[0]["startup"]
    for path in ("imports_help", "imports_run_help"):
        imports = start[path]
        assert imports["modules"] > 50  # importtime output was parsed
        assert isinstance(imports["textual"], bool) and isinstance(imports["rich"], bool)
        assert any(s["module"].startswith("posim") for s in imports["slowest"])


def test_memory_and_checks(tiny_report: tuple[dict[str, Any], str]) -> None:
    report, table = tiny_report
    assert set(report["memory"]) == {"run", "compare"}
    for memory in report["memory"].values():
        assert memory["small"]["max_rss_mib"] > 10
        assert memory["ratio"] == pytest.approx(
            memory["large"]["max_rss_mib"] / memory["small"]["max_rss_mib"], rel=0.01
        )
    names = {check["check"] for check in report["checks"]}
    assert {"a_vs_simpy", "a_vs_ciw", "c_linear", "jobs_speedup", "memory_ratio"} <= names
    for check in report["checks"]:
        assert check["check"] in table
        if check["check"].startswith("no_textual_"):
            assert check["ok"] is (check["value"] is False)
            continue
        # Each verdict is the stated comparison of the measured value with its bound,
        # recomputed here from the target text (not from the benchmark's table).
        op, bound_text = check["target"].split()
        bound = float(bound_text)
        if check["value"] is None:
            assert check["ok"] is None
            continue
        expected = {">=": check["value"] >= bound, "<=": check["value"] <= bound}.get(
            op, check["value"] < bound
        )
        assert op in (">=", "<=", "<")
        assert check["ok"] is expected, check
    # The checked values are the report's own figures, not copies that could drift.
    by_name = {check["check"]: check["value"] for check in report["checks"]}
    assert by_name["a_vs_simpy"] == report["flows"]["a_mm3"]["ratio_vs_simpy"]
    assert by_name["c_linear"] == report["flows"]["c_backlog"]["linear_ratio"]
    assert by_name["jobs_speedup"] == report["replications"]["heavy"]["speedup"]


def test_profile_names_engine_functions(tiny_report: tuple[dict[str, Any], str]) -> None:
    profile = tiny_report[0]["profile"]["a_mm3"]
    assert profile["items"] > 0
    assert profile["by_own_time"]
    assert any(
        "posim/engine/simulation.py" in row["function"]
        for row in profile["posim_by_cumulative_time"]
    )


def test_bare_simpy_floor_is_the_mm3_flow() -> None:
    """Both SimPy models give the Erlang C mean time in system (about 20,000 jobs)."""
    expected = references.erlang_c_lead_time()
    assert expected == pytest.approx(0.5197, abs=1e-4)  # M/M/3, lambda 9.6, mu 4 (tables)
    for model in (references.simpy_store_mm3, references.simpy_resource_mm3):
        leads = [model(700.0, seed)[1] for seed in (1, 2, 3)]
        assert sum(leads) / 3 == pytest.approx(expected, rel=0.08)


def test_ciw_and_posim_run_the_same_flow() -> None:
    """Ciw and posim see the same arrival rate and service as the SimPy floor."""
    horizon = 300.0
    rate = scenarios.MM3_LOAD * scenarios.MM3_SERVERS * scenarios.MM3_SERVICE_RATE
    expected_items = rate * horizon
    posim_items, posim_lead = timing.posim_case(
        scenarios.validated(scenarios.mm3_scenario(horizon))
    )()
    assert posim_items == pytest.approx(expected_items, rel=0.1)
    # About 2,900 jobs of an M/M/3 queue at load 0.8: the mean time in system is
    # within 15 % of Erlang C (a few standard errors of this autocorrelated mean).
    expected_lead = references.erlang_c_lead_time()
    assert math.isfinite(posim_lead)
    assert posim_lead == pytest.approx(expected_lead, rel=0.15)
    if references.ciw_available():
        ciw_items, ciw_lead = references.ciw_mm3(horizon, 1)
        assert ciw_items == pytest.approx(expected_items, rel=0.1)
        assert ciw_lead == pytest.approx(expected_lead, rel=0.15)


def test_scaled_scenarios_are_valid() -> None:
    tutorial = scenarios.validated(scenarios.tutorial_scaled(100.0))
    base = scenarios.validated(scenarios.tutorial_document())
    assert tutorial.horizon_days == 100.0
    for scaled, original in zip(tutorial.stakeholders, base.stakeholders, strict=True):
        assert scaled.requests.every.mean_ == pytest.approx(original.requests.every.mean_ / 3)
    backlog = scenarios.validated(scenarios.backlog_scenario(5000))
    assert backlog.backlog[0].generate == 5000
    assert [c.wip for c in backlog.workflow] == [4, 6, 4]


def test_flow_d_and_team_data_report_their_targets(tiny_report: tuple[dict[str, Any], str]) -> None:
    report, table = tiny_report
    flow = report["flows"]["d_overloaded"]
    assert set(flow["cases"]) == {"posim", "posim_2x", "reference_mm3_reviewed"}
    single, double = flow["cases"]["posim"], flow["cases"]["posim_2x"]
    assert flow["linear_ratio"] == pytest.approx(
        double["best_cpu_s"] / single["best_cpu_s"], abs=2e-3
    )
    checks = {check["check"]: check for check in report["checks"]}
    assert checks["d_linear"]["target"] == "<= 2.2"
    assert checks["d_vs_reference"]["target"] == ">= 0.1"
    assert checks["d_linear"]["ok"] == (flow["linear_ratio"] <= 2.2)
    team = report["team_data"]
    assert team["forecast_history_items"] > 0 and team["calibrate_rows"] >= 4
    assert checks["forecast_s"]["ok"] == (team["forecast_s"] < 3)
    assert "d_overloaded:" in table


def test_paired_ratio_is_the_median_of_the_back_to_back_ratios() -> None:
    """Repeat by repeat, items per CPU second of one case over the other's; the median."""
    timed = {
        "mine": {"items": 100, "cpu_times_s": [1.0, 2.0, 4.0]},
        "other": {"items": 50, "cpu_times_s": [1.0, 1.0, 1.0]},
    }
    # Per repeat: (100/1)/(50/1) = 2, (100/2)/50 = 1, (100/4)/50 = 0.5; the median is 1.
    assert timing.paired_ratio(timed, "mine", "other") == 1.0
    # One repeat disturbed on one side (the other case ran 4x slower): the median stays.
    timed["other"]["cpu_times_s"] = [4.0, 1.0, 1.0]
    assert timing.paired_ratio(timed, "mine", "other") == 1.0
    # No CPU time measured on one side: no ratio.
    idle = {**timed, "mine": {"items": 100, "cpu_times_s": [0.0, 0.0, 0.0]}}
    assert timing.paired_ratio(idle, "mine", "other") is None


def test_paired_time_ratio_is_the_median_of_the_back_to_back_time_ratios() -> None:
    timed = {
        "double": {"cpu_times_s": [2.0, 9.0, 4.2]},
        "single": {"cpu_times_s": [1.0, 1.0, 2.0]},
    }
    # Per repeat 2.0, 9.0 (a disturbed repeat) and 2.1: the median is 2.1.
    assert timing.paired_time_ratio(timed, "double", "single") == 2.1


def test_linearity_checks_have_paired_partners(tiny_report: tuple[dict[str, Any], str]) -> None:
    report, _ = tiny_report
    for key in ("a_mm3", "b_tutorial", "c_backlog", "d_overloaded"):
        flow = report["flows"][key]
        single, double = flow["cases"]["posim"], flow["cases"]["posim_2x"]
        expected = double["cpu_times_s"][0] / single["cpu_times_s"][0]  # one repeat: tiny
        assert flow["paired_linear_ratio"] == pytest.approx(expected, abs=2e-3), key
