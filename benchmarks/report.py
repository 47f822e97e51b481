"""The report: each target against its measured value, and the printed table.

:data:`TARGETS` are the bounds of issues 7 and 13 (flow (d) and the team-data
timings check theirs in :mod:`benchmarks.flow_d`); :func:`checks` turns a
report's figures into verdicts; :func:`format_report` prints the report.
"""

from __future__ import annotations

import math
from typing import Any

REPORT_VERSION = 1
"""Version of the JSON report's layout."""

TARGETS: dict[str, tuple[str, float]] = {
    "a_vs_simpy": (">=", 0.5),
    "a_vs_ciw": (">=", 1.0),
    "a_linear": ("<=", 2.2),
    "a2_vs_textbook": (">=", 0.6),
    "a2_vs_ciw": (">=", 1.0),
    "a2_records_cost": ("<=", 2.0),
    "b_linear": ("<=", 2.2),
    "c_linear": ("<=", 2.2),
    "jobs_speedup": (">=", 1.7),
    "jobs_speedup_tutorial": (">=", 1.7),
    "startup_help_s": ("<", 0.3),
    "startup_run_help_s": ("<", 0.3),
    "memory_ratio": ("<=", 1.5),
    "memory_ratio_run": ("<=", 1.5),
}
"""Target per check: comparison and bound (issue 7)."""


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target against its measured value."""
    flows = report["flows"]
    values: dict[str, Any] = {
        "a_vs_simpy": flows["a_mm3"]["ratio_vs_simpy"],
        "a_vs_ciw": flows["a_mm3"].get("ratio_vs_ciw"),
        "a_linear": flows["a_mm3"]["linear_ratio"],
        "a2_vs_textbook": flows["a2_mm3_reviews"]["ratio_vs_textbook"],
        "a2_vs_ciw": flows["a2_mm3_reviews"].get("ratio_vs_ciw"),
        "a2_records_cost": flows["a2_mm3_reviews"]["records_cost"],
        "b_linear": flows["b_tutorial"]["linear_ratio"],
        "c_linear": flows["c_backlog"]["linear_ratio"],
    }
    if "replications" in report:
        values["jobs_speedup"] = report["replications"]["heavy"]["speedup"]
        values["jobs_speedup_tutorial"] = report["replications"]["tutorial"]["speedup"]
    if "startup" in report:
        values["startup_help_s"] = report["startup"]["help_s"]
        values["startup_run_help_s"] = report["startup"]["run_help_s"]
    if "memory" in report:
        memory = report["memory"]
        values["memory_ratio"] = memory.get("compare", memory["run"])["ratio"]
        values["memory_ratio_run"] = memory["run"]["ratio"]
    out = []
    for name, value in values.items():
        op, bound = TARGETS[name]
        ok = None
        if value is not None:
            ok = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        out.append({"check": name, "value": value, "target": f"{op} {bound:g}", "ok": ok})
    out += report["flows"].get("d_overloaded", {}).get("checks", [])
    out += report.get("team_data", {}).get("checks", [])
    if "startup" in report:
        for path in ("imports_help", "imports_run_help"):
            textual = report["startup"][path]["textual"]
            out.append(
                {
                    "check": f"no_textual_{path}",
                    "value": textual,
                    "target": "False",
                    "ok": not textual,
                }
            )
    return out


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    m = report["machine"]
    src = report["source"]
    lines = [
        f"posim benchmark ({report['mode']}, best of {report['repeats']}) — "
        f"{m['cpu']}, {m['usable_cores']} cores, Python {m['python']}, {m['os']}; "
        f"load average {m['load_average'][0]:.2f} at start, "
        f"{m.get('load_average_end', [math.nan])[0]:.2f} at the end",
        f"{report.get('label') or 'posim'}: posim {m['versions']['posim']} at {src['path']} (commit {src.get('commit')}, "
        f"engine {'modified' if src.get('engine_dirty') else 'clean'}); "
        f"simpy {m['versions']['simpy']}, ciw {m['versions']['ciw']}",
        "",
    ]
    flows = report.get("flows")
    if flows:
        lines.append(
            f"{'flow / engine':<34}{'items':>9}{'CPU s':>9}{'items/CPU s':>13}{'wall s':>9}"
            f"{'items/s':>11}{'lead time':>11}"
        )
        for key, flow in flows.items():
            lines.append(f"{key}: {flow['flow']}")
            for name, case in flow["cases"].items():
                lead = case["lead_time_mean"]
                lines.append(
                    f"  {name:<32}{case['items']:>9}{case['best_cpu_s']:>9.3f}"
                    f"{_rate(case['items_per_cpu_s']):>13}{case['best_s']:>9.3f}"
                    f"{_rate(case['items_per_s']):>11}{'-' if lead is None else f'{lead:.3f}':>11}"
                )
        a = flows["a_mm3"]
        lines.append(
            f"  (Erlang C mean lead time of (a): {a['erlang_c_lead_time']:.3f}; "
            f"SimPy floor: {a['simpy_floor']}; by wall time posim/floor "
            f"{a['wall_ratio_vs_simpy']}, posim/ciw {a.get('wall_ratio_vs_ciw')}, "
            f"linearity {a['wall_linear_ratio']})"
        )
        a2 = flows["a2_mm3_reviews"]
        lines.append(
            f"  ((a') posim/textbook {a2['ratio_vs_textbook']}, posim/ciw {a2.get('ratio_vs_ciw')} "
            f"by best CPU times; median of the repeats' back-to-back ratios: "
            f"{a2.get('paired_ratio_vs_textbook')} and {a2.get('paired_ratio_vs_ciw')})"
        )
        paired = ", ".join(
            f"{key.split('_')[0]} {flow.get('paired_linear_ratio')}"
            for key, flow in flows.items()
            if "paired_linear_ratio" in flow
        )
        lines.append(f"  (linearity, median of the repeats' back-to-back ratios: {paired})")
        if "ciw_note" in a:
            lines.append(f"  {a['ciw_note']}")
        lines.append("")
    for reps in report.get("replications", {}).values():
        lines.append(f"replications: {reps['runs']} runs of {reps['scenario']}")
        for jobs in ("jobs_1", "jobs_2"):
            lines.append(
                f"  --{jobs.replace('_', ' ')}: {reps[jobs]['best_s']:.2f} s, "
                f"{reps[jobs]['replications_per_s']:.1f} replications/s, "
                f"CPU {reps[jobs]['cpu_s']:.2f} s"
            )
        lines.append(
            f"  speed-up {reps['speedup']:.2f}x on {reps['cores']} cores; "
            f"identical output: {reps['identical_output']}"
        )
        lines.append("")
    start = report.get("startup")
    if start:
        lines.append(
            f"start-up (best of {report.get('startup_repeats', '')}): python -c pass "
            f"{start['python_bare_s']:.3f} s, posim --help {start['help_s']:.3f} s, "
            f"posim run --help {start['run_help_s']:.3f} s"
        )
        for path in ("imports_help", "imports_run_help"):
            imp = start[path]
            slow = ", ".join(f"{s['module']} {s['cumulative_s']:.3f}" for s in imp["slowest"][:3])
            lines.append(
                f"  {path}: {imp['modules']} modules, textual={imp['textual']}, "
                f"rich={imp['rich']}, imports {imp['import_total_s']:.3f} s ({slow})"
            )
        lines.append("")
    for key in ("run", "compare"):
        mem = report.get("memory", {}).get(key)
        if mem:
            lines.append(
                f"memory ({mem['command']}): {mem['small']['runs']} runs "
                f"{mem['small']['max_rss_mib']} MiB, {mem['large']['runs']} runs "
                f"{mem['large']['max_rss_mib']} MiB, ratio {mem['ratio']:.2f}"
            )
    if "compare_note" in report.get("memory", {}):
        lines.append(f"memory: {report['memory']['compare_note']}")
    lines.append("")
    if "checks" in report:
        lines.append(f"{'check':<26}{'value':>10}  {'target':<10}ok")
        for check in report["checks"]:
            ok = {True: "yes", False: "NO", None: "-"}[check["ok"]]
            lines.append(f"{check['check']:<26}{check['value']!s:>10}  {check['target']:<10}{ok}")
    for key, prof in report.get("profile", {}).items():
        lines.append("")
        lines.append(
            f"profile {key}: {prof['items']} items, {prof['profiled_s']:.2f} s profiled, "
            f"{prof['calls']:,} calls; top by own time"
        )
        for row in prof["by_own_time"]:
            lines.append(
                f"  {row['own_s']:>8.3f} s {row['own_share']:>6.1%} {row['calls']:>9} "
                f"{row['function']}"
            )
    return "\n".join(lines)
