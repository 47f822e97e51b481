"""Bad scenario files: every problem at once, one line each, ``file:LINE: path: message``.

The fixtures live in ``tests/data/``; each test names the exact lines it expects,
so a wrong line number fails.  The CLI tests at the end check ``posim validate``
turns the same problems into exit status 2 without a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posim.scenario import (
    MAX_FILE_BYTES,
    MAX_ITEMS,
    MAX_MEMBERS,
    MAX_REVIEWS,
    MAX_TOTAL_ITEMS,
    MAX_YAML_NODES,
    Problem,
    ScenarioError,
    load_scenario,
    parse_scenario,
)

DATA = Path(__file__).parent / "data"
REPO_ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """\
posim: 1
name: Minimal
horizon_days: 10
workflow: [{name: development}]
team: [{name: Dev, skills: {development: 1}}]
"""


def problems_of(source: str | Path) -> list[str]:
    """The problem lines of loading ``source`` (which must fail)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(source)
    lines = [str(problem) for problem in caught.value.problems]
    assert str(caught.value) == "\n".join(lines)
    return lines


def problems_in(text: str, tmp_path: Path, name: str = "scenario.yaml") -> list[str]:
    """The problem lines of a scenario text saved as ``name``, with the folder stripped."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [line.removeprefix(f"{tmp_path}{os.sep}") for line in problems_of(path)]


def test_problem_formats_with_and_without_line_and_path() -> None:
    assert str(Problem("a.yaml", 3, "workflow.1.wip", "must be >= 1")) == (
        "a.yaml:3: workflow.1.wip: must be >= 1"
    )
    assert str(Problem("a.yaml", None, "seed", "bad")) == "a.yaml: seed: bad"
    assert str(Problem("a.yaml", 7, "", "invalid YAML")) == "a.yaml:7: invalid YAML"
    error = ScenarioError([Problem("a", 1, "x", "m"), Problem("a", 2, "", "n")])
    assert str(error) == "a:1: x: m\na:2: n"


def test_syntax_error_reports_the_line_the_parser_stopped_on() -> None:
    path = DATA / "bad_syntax.yaml"
    (line,) = problems_of(path)
    # The wording comes from libyaml (or PyYAML's pure-Python parser when libyaml is missing).
    assert re.fullmatch(
        rf"{re.escape(str(path))}:6: invalid YAML: .*expected ',' or '\}}'.* "
        r"\(while parsing a flow mapping started on line 5\)",
        line,
    ), line


def test_many_problems_in_one_file_are_all_reported_with_their_lines() -> None:
    path = DATA / "bad_fields.yaml"
    allowed = "constant, uniform, triangular, normal, lognormal, exponential, weibull, empirical"
    assert problems_of(path) == [
        f"{path}:5: colour: unknown field 'colour'",
        f"{path}:8: workflow.1.wip: must be >= 1 (got -1)",
        f"{path}:9: workflow.2.wip: expected a whole number, got true",
        f"{path}:13: team.0.absence_days: unknown distribution 'gauss'; use one of {allowed}",
        f"{path}:15: team.1.skills.development: expected a number, got text 'lots'",
        f"{path}:18: team.2.absence_days.median: must be > 0 (got -1)",
        f"{path}:20: backlog.0: missing required field 'title'",
        f"{path}:20: backlog.0.titel: unknown field 'titel'; did you mean 'title'?",
        f"{path}:21: backlog.1: missing required field 'template'",
        f"{path}:22: cadence.mode: must be 'kanban' or 'scrum' (got 'scrumm')",
    ]


def test_dangling_references_point_at_the_name_that_dangles() -> None:
    path = DATA / "bad_dangling.yaml"
    assert problems_of(path) == [
        f"{path}:8: team.0.skills.qa: unknown activity 'qa'; known: development, test",
        f"{path}:12: stakeholders.0.requests.template: unknown template 'nope'",
        f"{path}:16: backlog.0.template: unknown template 'missing'",
        f"{path}:16: backlog.0.requester: unknown stakeholder 'Marketing'",
        f"{path}:17: backlog.1.effort.design: unknown activity 'design'; known: development, test",
        f"{path}:19: events.0.leave: unknown member 'Zed'",
    ]


def test_unknown_key_lists_the_allowed_fields_when_there_are_few(tmp_path: Path) -> None:
    text = MINIMAL.replace("{name: development}", "{name: development, limit: 3}")
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:4: workflow.0.limit: unknown field 'limit'; allowed: name, wip"
    ]


def test_wrong_types_say_what_was_expected(tmp_path: Path) -> None:
    text = MINIMAL + "seed: seven\nready_wip: 2.5\nstakeholders: {name: Sales}\nlevel: expert\n"
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:6: seed: expected a whole number, got text 'seven'",
        "scenario.yaml:7: ready_wip: must be a whole number (got 2.5)",
        "scenario.yaml:8: stakeholders: expected a list, got a mapping",
        "scenario.yaml:9: level: must be 'junior', 'mid' or 'senior' (got 'expert')",
    ]


def test_booleans_are_not_numbers(tmp_path: Path) -> None:
    text = MINIMAL.replace("{name: development}", "{name: development, wip: yes}")
    text += "ready_wip: true\n"
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:4: workflow.0.wip: expected a whole number, got text 'yes'",
        "scenario.yaml:6: ready_wip: expected a whole number, got true",
    ]


def test_distribution_errors_are_readable(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "team: [{name: Dev, skills: {development: 1}}]",
        "team:\n"
        "  - {name: A, skills: {development: 1}, absence_days: {mean: 2}}\n"
        "  - {name: B, skills: {development: 1}, absence_days: [1, 2]}\n"
        "  - {name: C, skills: {development: 1}, absence_days: {dist: uniform, low: 3, high: 1}}\n"
        "  - {name: D, skills: {development: 1}, absence_days: {dist: normal, mean: 1}}\n"
        "  - {name: E, skills: {development: 1}, absence_days: -2}\n",
    )
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:6: team.0.absence_days: a distribution needs 'dist': one of constant, "
        "uniform, triangular, normal, lognormal, exponential, weibull, empirical",
        "scenario.yaml:7: team.1.absence_days: expected a number or a distribution like "
        "{dist: exponential, mean: 2}, got a list",
        "scenario.yaml:8: team.2.absence_days: high must be >= low",
        "scenario.yaml:9: team.3.absence_days: missing required field 'sd'",
        "scenario.yaml:10: team.4.absence_days: must be >= 0",
    ]


def test_nan_and_infinity_must_be_finite_numbers() -> None:
    path = DATA / "bad_not_finite.yaml"
    assert problems_of(path) == [
        f"{path}:3: horizon_days: must be a finite number",
        f"{path}:6: team.0.skills.development: must be a finite number",
        f"{path}:8: slippage.effort_sigma: must be a finite number",
        f"{path}:9: slippage.blocker_days: must be a finite number",
    ]


def test_duplicate_keys_are_reported_where_they_repeat() -> None:
    path = DATA / "bad_duplicate_key.yaml"
    assert problems_of(path) == [
        f"{path}:8: team.0.name: duplicate key 'name'",
        f"{path}:9: horizon_days: duplicate key 'horizon_days'",
    ]


def test_python_tags_are_refused_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = DATA / "bad_python_tag.yaml"
    assert problems_of(path) == [
        f"{path}:6: description: unsupported YAML tag '!!python/object/apply:os.system'",
        f"{path}:7: seed: unsupported YAML tag '!!python/object/apply:subprocess.check_output'",
    ]
    assert not (tmp_path / "posim-was-here").exists()


def test_a_tag_on_the_whole_document_is_refused(tmp_path: Path) -> None:
    text = '!!python/object/apply:os.system ["touch posim-was-here"]\n'
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:1: unsupported YAML tag '!!python/object/apply:os.system'"
    ]
    assert not Path("posim-was-here").exists()


def test_alias_bomb_is_stopped_quickly() -> None:
    path = DATA / "bad_alias_bomb.yaml"
    started = time.perf_counter()
    assert problems_of(path) == [
        f"{path}: too many YAML nodes (alias bomb?): at most {MAX_YAML_NODES}"
    ]
    assert time.perf_counter() - started < 5


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    assert problems_in("a: &a [*a]\n", tmp_path) == [
        "scenario.yaml:1: nested too deeply (at most 64 levels; a recursive alias?)"
    ]


def test_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "team: [{name: Dev, skills: {development: 1}}]",
        "team:\n  - &dev {name: Dev, skills: {development: 1}}\n  - {<<: *dev, name: Eve}\n",
    )
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path)
    assert [(m.name, m.skills) for m in scenario.team] == [
        ("Dev", {"development": 1.0}),
        ("Eve", {"development": 1.0}),
    ]


def test_empty_file() -> None:
    path = DATA / "bad_empty.yaml"
    assert problems_of(path) == [f"{path}:1: the file is empty"]


def test_only_comments_is_empty(tmp_path: Path) -> None:
    assert problems_in("# nothing here\n\n", tmp_path) == ["scenario.yaml:1: the file is empty"]


def test_a_list_instead_of_a_mapping() -> None:
    path = DATA / "bad_list.yaml"
    assert problems_of(path) == [
        f"{path}:1: expected a mapping of scenario fields (posim: 1, name: ...), got a list"
    ]


def test_non_utf8_bytes_name_their_line() -> None:
    path = DATA / "bad_not_utf8.yaml"
    assert problems_of(path) == [f"{path}:2: not UTF-8 text"]


def test_missing_file() -> None:
    missing = DATA / "no-such-file.yaml"
    assert problems_of(missing) == [f"{missing}: cannot read: No such file or directory"]


def test_unknown_builtin_name_lists_the_builtins() -> None:
    (line,) = problems_of("no-such-scenario")
    assert line.startswith("no-such-scenario: cannot read: No such file or directory")
    assert "tutorial" in line


def test_horizon_cap(tmp_path: Path) -> None:
    text = MINIMAL.replace("horizon_days: 10", "horizon_days: 1e9")
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:3: horizon_days: must be <= 3650 (got 1000000000.0)"
    ]


def test_item_cap(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + "templates: {t: {value: 1, effort: {development: 1}}}\n"
        + "backlog:\n  - {generate: 15000, template: t}\n  - {generate: 15000, template: t}\n"
        + "  - {generate: 30000, template: t}\n"
    )
    assert problems_in(text, tmp_path) == [
        f"scenario.yaml:10: backlog.2.generate: must be <= {MAX_ITEMS} (got 30000)"
    ]
    text = text.replace("  - {generate: 30000, template: t}\n", "")
    assert problems_in(text, tmp_path) == [
        f"scenario.yaml:7: backlog: at most {MAX_ITEMS} items (got 30000)"
    ]


def test_member_cap(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "team: [{name: Dev, skills: {development: 1}}]",
        "team:\n  - {name: Dev, count: 150, skills: {development: 1}}\n"
        "  - {name: Tess, count: 60, skills: {development: 1}}\n",
    )
    assert problems_in(text, tmp_path) == [
        f"scenario.yaml:5: team: at most {MAX_MEMBERS} members (got 210)"
    ]


def test_file_size_cap_is_checked_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(MINIMAL.encode() + b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    started = time.perf_counter()
    (line,) = problems_of(path)
    assert line == f"{path}: file too large ({path.stat().st_size} bytes; at most {MAX_FILE_BYTES})"
    assert time.perf_counter() - started < 1
    with pytest.raises(ScenarioError, match="file too large"):
        parse_scenario(path.read_bytes(), "huge.yaml")


def test_several_caps_in_a_fixture() -> None:
    path = DATA / "bad_caps.yaml"
    assert problems_of(path) == [f"{path}:3: horizon_days: must be <= 3650 (got 100000)"]


def test_json_problems_have_lines() -> None:
    path = DATA / "bad.json"
    assert problems_of(path) == [
        f"{path}:5: workflow.0.wip: must be >= 1 (got 0)",
        f"{path}:7: seed: must be a finite number",
    ]


def test_json_syntax_error(tmp_path: Path) -> None:
    assert problems_in('{"posim": 1,\n  "name": }\n', tmp_path, "s.json") == [
        "s.json:2: invalid JSON: Expecting value"
    ]


def test_json_duplicate_key(tmp_path: Path) -> None:
    text = '{"posim": 1, "name": "x", "horizon_days": 10,\n"name": "y"}\n'
    assert problems_in(text, tmp_path, "s.json") == [
        "s.json:1: missing required field 'workflow'",
        "s.json:1: missing required field 'team'",
        "s.json:2: name: duplicate key 'name'",
    ]


def test_multiple_documents_are_refused(tmp_path: Path) -> None:
    assert problems_in(MINIMAL + "---\nname: again\n", tmp_path) == [
        "scenario.yaml:6: invalid YAML: expected a single document in the stream, "
        "but found another document"
    ]


def test_missing_required_fields_at_top_level(tmp_path: Path) -> None:
    assert problems_in("posim: 1\nname: Nothing else\n", tmp_path) == [
        "scenario.yaml:1: missing required field 'horizon_days'",
        "scenario.yaml:1: missing required field 'workflow'",
        "scenario.yaml:1: missing required field 'team'",
    ]


# --------------------------------------------------------------------------
# posim validate
# --------------------------------------------------------------------------


def run_posim(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m posim ARGS`` from the repository checkout (or ``cwd``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "posim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_validate_reports_every_problem_and_exits_2() -> None:
    done = run_posim("validate", "tests/data/bad_dangling.yaml", "tests/data/bad_syntax.yaml")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == (
        "tests/data/bad_dangling.yaml:8: team.0.skills.qa: unknown activity 'qa'; "
        "known: development, test"
    )
    assert len([line for line in lines if line.startswith("tests/data/bad_dangling.yaml:")]) == 6
    assert lines[-1].startswith("tests/data/bad_syntax.yaml:6: invalid YAML:")


def test_validate_missing_file_and_python_tag_exit_2_without_traceback(tmp_path: Path) -> None:
    done = run_posim("validate", "tests/data/no-such.yaml", "tests/data/bad_python_tag.yaml")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == (
        "tests/data/no-such.yaml: cannot read: No such file or directory"
    )
    assert not (REPO_ROOT / "posim-was-here").exists()


def test_validate_accepts_the_tutorial() -> None:
    done = run_posim("validate", "tutorial", "scenarios/tutorial.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": ok") == 2


def test_format_version_and_non_text_keys(tmp_path: Path) -> None:
    text = MINIMAL.replace("posim: 1", "posim: 2").replace("{development: 1}", "{1: 1}")
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:1: posim: unsupported format version 2; this posim reads 1",
        "scenario.yaml:5: team.0.skills.1: keys here must be text, got the number 1",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "bad_fields.yaml",
        "bad_dangling.yaml",
        "bad_duplicate_key.yaml",
        "bad_not_finite.yaml",
        "bad_python_tag.yaml",
        "bad_alias_bomb.yaml",
        "bad.json",
    ],
)
def test_pure_python_yaml_gives_the_same_problems(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libyaml is used when PyYAML has it; without it the problems must not change.
    import yaml

    import posim.scenario.reader

    with_libyaml = problems_of(DATA / name)
    monkeypatch.setattr(posim.scenario.reader, "_SafeComposer", type("Py", (yaml.SafeLoader,), {}))
    assert problems_of(DATA / name) == with_libyaml


def test_pure_python_yaml_reads_words_and_numbers_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    import posim.scenario.reader

    text = MINIMAL.replace("name: Minimal", "name: No").replace(
        "horizon_days: 10", "horizon_days: 1e1"
    )
    with_libyaml = parse_scenario(text, "a.yaml")
    monkeypatch.setattr(posim.scenario.reader, "_SafeComposer", type("Py", (yaml.SafeLoader,), {}))
    assert parse_scenario(text, "a.yaml") == with_libyaml
    assert (with_libyaml.name, with_libyaml.horizon_days) == ("No", 10.0)


def test_field_errors_and_dangling_references_are_reported_together() -> None:
    """Cross-reference problems are not hidden behind field errors (all problems at once)."""
    path = DATA / "bad_mixed.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = str(caught.value).splitlines()
    expected = [
        (5, "workflow.0.wip", "must be >= 1"),
        (6, "workflow.1.wipp", "unknown field 'wipp'"),
        (8, "team.0.skills.design", "unknown activity 'design'"),
        (11, "stakeholders.0.trust", "must be <= 100"),
        (11, "stakeholders.0.requests.template", "unknown template 'nosuch'"),
        (13, "templates.feature.colour", "unknown field 'colour'"),
        (15, "backlog.0.requester", "unknown stakeholder 'Nobody'"),
        (17, "events.0.leave", "unknown member 'Ghost'"),
    ]
    assert len(lines) == len(expected), lines
    for line, (number, dotted, message) in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{number}: {dotted}: {message}"), line


def test_a_flood_of_requests_is_rejected_before_anything_runs() -> None:
    path = DATA / "bad_flood.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (line,) = str(caught.value).splitlines()
    assert line.startswith(
        f"{path}:7: stakeholders.0.requests.every: about 150,000 requests over the horizon; "
        "with the backlog's 0 items at most 100,000 items in all: raise the mean gap to at least 0.03 days"
    )


# --------------------------------------------------------------------------
# Issue 12: hostile input (periods, work, numbers, controls, saves, sort keys)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (
            "cadence: {replenish_every: 1e-300}",
            "cadence.replenish_every: must be 0 (replenish whenever Ready has room) "
            "or at least 0.1 days (got 1e-300)",
        ),
        (
            "cadence: {replenish_every: 1e-7}",
            "cadence.replenish_every: must be 0 (replenish whenever Ready has room) "
            "or at least 0.1 days (got 1e-07)",
        ),
        (
            "cadence: {review_every: 1e-300}",
            "cadence.review_every: must be 0 (no reviews) or at least 0.1 days (got 1e-300)",
        ),
        ("cadence: {mode: scrum, sprint_days: 1e-300}", "cadence.sprint_days: must be >= 1"),
        (
            "stakeholders: [{name: S, report_every: 1e-300}]",
            "stakeholders.0.report_every: must be >= 0.1 (got 1e-300)",
        ),
        (
            "stakeholders: [{name: S, requests: {every: 0, template: t}}]\n"
            "templates: {t: {effort: {development: 1}}}",
            "stakeholders.0.requests.every: the mean gap between requests must be at least "
            "0.01 days (got 0)",
        ),
    ],
)
def test_periods_have_lower_bounds(tmp_path: Path, extra: str, line: str) -> None:
    (problem,) = problems_in(MINIMAL + extra + "\n", tmp_path)
    assert problem.startswith(f"scenario.yaml:6: {line}"), problem


def test_zero_keeps_its_meaning_for_replenishment_and_reviews() -> None:
    scenario = parse_scenario(MINIMAL + "cadence: {replenish_every: 0, review_every: 0}\n")
    assert (scenario.cadence.replenish_every, scenario.cadence.review_every) == (0, 0)
    scenario = parse_scenario(MINIMAL + "cadence: {replenish_every: 0.1, review_every: 0.1}\n")
    assert scenario.cadence.replenish_every == 0.1


def many_stakeholders(count: int, every: float, horizon: float = 30) -> str:
    """A scenario with ``count`` stakeholders, each sending requests every ``every`` days."""
    lines = [
        MINIMAL.replace("horizon_days: 10", f"horizon_days: {horizon}"),
        "templates: {t: {effort: {development: 1}}}",
        "stakeholders:",
    ]
    lines += [
        f"  - {{name: S{i}, requests: {{every: {{dist: exponential, mean: {every}}}, "
        "template: t}}"
        for i in range(count)
    ]
    return "\n".join(lines) + "\n"


def test_requests_are_capped_over_all_stakeholders_not_each(tmp_path: Path) -> None:
    # Each of the twenty stays far below the cap; together they would not.
    (problem,) = problems_in(many_stakeholders(20, 0.01, horizon=100), tmp_path)
    assert problem == (
        "scenario.yaml:8: stakeholders: about 200,000 items in all (the backlog's 0 and about "
        f"200,000 requests from 20 stakeholders); at most {MAX_TOTAL_ITEMS:,}: make requests "
        "rarer (a larger requests.every), fewer stakeholders send them, or shorten horizon_days"
    )
    assert parse_scenario(many_stakeholders(20, 0.1, horizon=100)).horizon_days == 100


def test_reviews_are_capped_over_all_stakeholders(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("horizon_days: 10", "horizon_days: 3000")
        + "cadence: {review_every: 0.5}\nstakeholders:\n"
        + "".join(f"  - {{name: S{i}}}\n" for i in range(5))
    )
    (problem,) = problems_in(text, tmp_path)
    assert problem.startswith(
        f"scenario.yaml:7: stakeholders: about 30,000 status reviews over the horizon "
        f"(5 stakeholders); at most {MAX_REVIEWS:,}: review less often"
    ), problem


ISSUE_EXAMPLES = {
    "replenish": "cadence: {replenish_every: 1e-300}",
    "replenish-1e-7": "cadence: {replenish_every: 1e-7}",
    "review": "cadence: {review_every: 1e-300}\nstakeholders: [{name: S}]",
    "sprint": "cadence: {mode: scrum, sprint_days: 1e-300}",
    "report": "stakeholders: [{name: S, report_every: 1e-300}]",
}


@pytest.mark.parametrize("name", sorted(ISSUE_EXAMPLES))
def test_the_issues_endless_scenarios_are_refused_quickly(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(MINIMAL + ISSUE_EXAMPLES[name] + "\n", encoding="utf-8")
    started = time.monotonic()
    done = run_posim("run", str(path))
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{path}:6: ")
    assert time.monotonic() - started < 60


def test_twenty_fast_stakeholders_are_refused_by_run(tmp_path: Path) -> None:
    path = tmp_path / "flood.yaml"
    path.write_text(many_stakeholders(20, 0.00016), encoding="utf-8")
    done = run_posim("run", str(path))
    assert done.returncode == 2
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("mean gap between requests must be at least 0.01") == 20


def test_sweep_set_goes_through_the_same_validation(tmp_path: Path) -> None:
    done = run_posim("sweep", "tutorial", "--set", "cadence.replenish_every=1e-300", "--runs", "1")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "--set cadence.replenish_every=1e-300: cadence.replenish_every: must be 0 (replenish "
        "whenever Ready has room) or at least 0.1 days (got 1e-300)"
    )


def test_a_wip_limit_must_be_whole(tmp_path: Path) -> None:
    text = MINIMAL.replace("{name: development}", "{name: development, wip: 2.5}")
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:4: workflow.0.wip: must be a whole number (got 2.5)"
    ]


def test_a_5000_digit_yaml_number_is_not_repeated(tmp_path: Path) -> None:
    (problem,) = problems_in(MINIMAL + "seed: " + "9" * 5000 + "\n", tmp_path)
    assert problem == (
        "scenario.yaml:6: seed: a whole number of 5,000 digits; at most 30 (no field needs more)"
    )
    (problem,) = problems_in(MINIMAL + "seed: " + "9" * 100 + "\n", tmp_path)
    assert len(problem) < 120 and "9" * 40 not in problem


def test_a_huge_json_integer_is_one_line_and_other_files_still_report(tmp_path: Path) -> None:
    good = {
        "posim": 1,
        "name": "x",
        "horizon_days": 10,
        "workflow": [{"name": "d"}],
        "team": [{"name": "D", "skills": {"d": 1}}],
    }
    text = json.dumps(good)[:-1] + ', "seed": ' + "9" * 5000 + "}"
    (tmp_path / "big.json").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(MINIMAL + "seed: -1\n", encoding="utf-8")
    done = run_posim("validate", "big.json", "b.yaml", "tutorial", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "big.json:1: seed: a whole number of 5,000 digits; at most 30 (no field needs more)",
        "b.yaml:6: seed: must be >= 0 (got -1)",
    ]
    assert "tutorial: ok" in done.stdout


def test_every_cross_reference_problem_is_reported_despite_list_entry_errors() -> None:
    path = DATA / "bad_hidden.yaml"
    lines = problems_of(path)
    expected = [
        (6, "workflow.0.wip", "must be a whole number (got 2.5)"),
        (9, "team.0.skills.design", "unknown activity 'design'"),
        (10, "team.1.count", "expected a whole number, got text 'many'"),
        (11, "team.2", "missing required field 'name'"),
        (13, "stakeholders.0.product", "unknown product 'Shop'"),
        (13, "stakeholders.0.requests.template", "unknown template 'nosuch'"),
        (14, "stakeholders.1.name", "expected text, got a list"),
        (16, "templates.feature.effort.docs", "unknown activity 'docs'"),
        (16, "templates.feature.product", "unknown product 'Shop'"),
        (18, "backlog.0.value", "expected a number, got text 'lots'"),
        (18, "backlog.0.requester", "unknown stakeholder 'Nobody'"),
        (19, "backlog.1.effort.ux", "unknown activity 'ux'"),
        (19, "backlog.1.product", "unknown product 'Web'"),
        (20, "backlog.2.template", "unknown template 'missing'"),
        (21, "backlog.3.requester", "unknown stakeholder 'Ghost'"),
        (23, "events.0.leave", "unknown member 'Zoe'"),
        (24, "events.1.absent", "unknown member 'Yan'"),
        (25, "events.2.join.skills.qa", "unknown activity 'qa'"),
    ]
    assert len(lines) == len(expected), lines
    for line, (number, dotted, message) in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{number}: {dotted}: {message}"), line


def test_a_dropped_entry_does_not_invent_dangling_references(tmp_path: Path) -> None:
    # Column 0 is broken beyond repair (no name); the skills naming the other column
    # stay fine, and nothing is said about members or activities that only look missing.
    text = (
        "posim: 1\nname: x\nhorizon_days: 10\n"
        "workflow: [{name: dev}, {name: [test]}]\n"
        "team: [{name: Dev, count: x, skills: {dev: 1}}, {name: Tess, skills: {dev: 1}}]\n"
        "events: [{day: 1, leave: Dev 2}, {day: 2, absent: Tess}]\n"
    )
    assert problems_in(text, tmp_path) == [
        "scenario.yaml:4: workflow.1.name: expected text, got a list",
        "scenario.yaml:5: team.0.count: expected a whole number, got text 'x'",
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", '"Shop \\e[2J\\e]0;pwned\\a"'),
        ("title", '"\\x9b31m red"'),
        ("workflow", '[{name: "dev\\0"}]'),
        ("description", '"clear \\e[2J screen"'),
        ("name", '"evil \\u202e txt.exe"'),
    ],
)
def test_control_characters_are_refused(tmp_path: Path, field: str, value: str) -> None:
    text = (
        "\n".join(line for line in MINIMAL.splitlines() if not line.startswith(f"{field}:"))
        + f"\n{field}: {value}\n"
    )
    problems = problems_in(text, tmp_path)
    assert any("control character" in p for p in problems), problems
    for problem in problems:
        assert problem.isprintable(), problem


def test_newlines_stay_allowed_in_descriptions() -> None:
    scenario = parse_scenario(MINIMAL + 'description: "one\\n\\ttwo"\n')
    assert scenario.description == "one\n\ttwo"


def test_validate_never_prints_a_terminal_escape(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(
        MINIMAL.replace("name: Minimal", 'name: "\\e[2J\\e]0;pwned\\a"')
        + 'templates: {"\\e[31m": {value: 1}}\n',
        encoding="utf-8",
    )
    done = run_posim("validate", str(path))
    assert done.returncode == 2
    assert "\x1b" not in done.stderr + done.stdout and "\x07" not in done.stderr
    assert "\\x1b" in done.stderr
    assert len(done.stderr.splitlines()) == 2


def test_new_scenario_with_an_empty_name_is_one_clean_line(tmp_path: Path) -> None:
    for name in ("", "/", "a\x1bb"):
        done = run_posim("new-scenario", name, cwd=tmp_path)
        assert done.returncode == 2
        assert "PosixPath" not in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1 and "\x1b" not in done.stderr
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------
# Corrupted saves (posim replay, play --load, the autosave)
# --------------------------------------------------------------------------

GOOD_SHA = "0" * 64


def save_text(commands: list[dict[str, object]] | None = None, **top: object) -> str:
    """A save document of the tutorial (scenario hash not checked here), as JSON text."""
    document: dict[str, object] = {
        "posim_save": 1,
        "scenario": {"name": "Tutorial", "source": "tutorial", "sha256": GOOD_SHA},
        "seed": 7,
        "day": 3,
        "commands": commands or [],
    }
    document.update(top)
    return json.dumps(document)


BAD_COMMANDS = [
    (
        {"type": "reorder", "item": 1, "rank": "x"},
        "commands.0.rank: must be a whole number, not 'x'",
    ),
    (
        {"type": "reorder", "item": 1, "rank": 1.5},
        "commands.0.rank: must be a whole number, not 1.5",
    ),
    ({"type": "commit", "item": "16"}, "commands.0.item: must be a whole number, not '16'"),
    ({"type": "commit", "item": [16]}, "commands.0.item: must be a whole number, not [16]"),
    (
        {"type": "report", "stakeholder": ["Sales"], "status": "late", "forecast_day": 20},
        "commands.0.stakeholder: must be text, not ['Sales']",
    ),
    (
        {"type": "report", "stakeholder": "Sales", "status": "late", "forecast_day": "20"},
        "commands.0.forecast_day: must be a number, not '20'",
    ),
    (
        {"type": "set_wip", "column": "ready", "limit": "5"},
        "commands.0.limit: must be a whole number or null, not '5'",
    ),
    (
        {"type": "set_wip", "column": "ready", "limit": 2.5},
        "commands.0.limit: must be a whole number or null, not 2.5",
    ),
    ({"type": "set_wip", "column": {}, "limit": 5}, "commands.0.column: must be text, not {}"),
    (
        {"type": ["reorder"], "item": 1, "rank": 0},
        "commands.0.type: must be one of reorder, commit, accept, decline, answer, report, "
        "set_wip, not ['reorder']",
    ),
]


@pytest.mark.parametrize(("command", "problem"), BAD_COMMANDS)
def test_save_commands_are_type_checked(
    tmp_path: Path, command: dict[str, object], problem: str
) -> None:
    from posim import saves

    path = tmp_path / "bad.json"
    path.write_text(save_text([{"day": 1, **command}]), encoding="utf-8")
    with pytest.raises(saves.SaveError) as caught:
        saves.replay(path)
    assert str(caught.value) == f"{path}: {problem}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            save_text(seed=2**200),
            "seed: must be a whole number >= 0 and < 2**63, not a whole number of 61 digits",
        ),
        (save_text(day=1e308), "day: must be a number >= 0 and <= 3650, not 1e+308"),
        (
            save_text(scenario={"name": "t", "source": "tutorial", "sha256": ""}),
            "scenario.sha256: must be the scenario file's SHA-256 (64 hexadecimal digits), not ''",
        ),
        (
            save_text().replace('"seed": 7', '"seed": ' + "7" * 5000),
            "seed: must be a whole number >= 0 and < 2**63, not a whole number of 5,000 digits",
        ),
    ],
    ids=["seed-2**200", "day-1e308", "empty-sha256", "seed-5000-digits"],
)
def test_save_numbers_and_digest_are_checked(tmp_path: Path, text: str, problem: str) -> None:
    from posim import saves

    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(saves.SaveError) as caught:
        saves.read_save(path)
    assert str(caught.value).startswith(f"{path}: {problem}")
    assert "\n" not in str(caught.value)


def test_every_save_problem_is_reported_one_line_each(tmp_path: Path) -> None:
    from posim import saves

    path = tmp_path / "bad.json"
    commands = [{"day": 1, **command} for command, _ in BAD_COMMANDS[:3]]
    path.write_text(save_text(commands, seed=-1), encoding="utf-8")
    with pytest.raises(saves.SaveError) as caught:
        saves.read_save(path)
    assert str(caught.value).splitlines() == [
        f"{path}: seed: must be a whole number >= 0 and < 2**63, not -1",
        *(f"{path}: {problem.replace('commands.0', f'commands.{i}')}"
          for i, (_, problem) in enumerate(BAD_COMMANDS[:3])),
    ]  # fmt: skip


@pytest.mark.parametrize("command", ["replay", "play --load"])
def test_corrupted_saves_exit_2_without_traceback(tmp_path: Path, command: str) -> None:
    for index, (bad, problem) in enumerate(BAD_COMMANDS[::3]):
        path = tmp_path / f"bad{index}.json"
        path.write_text(save_text([{"day": 1, **bad}]), encoding="utf-8")
        done = run_posim(*command.split(), str(path))
        assert done.returncode == 2
        assert done.stderr == f"{path}: {problem}\n"
    path = tmp_path / "huge.json"
    path.write_text(save_text().replace('"day": 3', '"day": ' + "1" * 4500), encoding="utf-8")
    done = run_posim(*command.split(), str(path))
    assert (done.returncode, done.stderr) == (
        2,
        f"{path}: day: must be a number >= 0 and <= 3650, not a whole number of 4,500 digits\n",
    )


async def test_a_corrupted_autosave_neither_stops_the_menu_nor_crashes_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posim import saves
    from posim.tui.app import build_app
    from posim.tui.screens.title import TitleScreen

    monkeypatch.setenv("POSIM_HOME", str(tmp_path))
    autosave = saves.autosave_path()
    autosave.write_text(save_text().replace('"seed": 7', '"seed": ' + "7" * 5000))
    app = build_app(None)
    title = app.title_screen()  # posim play --menu builds this first: it must not raise
    assert isinstance(title, TitleScreen)
    autosave.write_text(save_text([{"day": 1, "type": "commit", "item": "16"}]))
    async with app.run_test() as pilot:
        app.title_choice(TitleScreen.Chosen("continue"))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, TitleScreen)
        (notice,) = list(app._notifications)
        assert "commands.0.item: must be a whole number, not '16'" in notice.message


# --------------------------------------------------------------------------
# User strategies whose sort keys cannot be ordered
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ('return "x" if item.id % 2 else 1', "got 'x'"),
        ('return float("nan")', "got nan"),
        ('return (1.0, float("nan"))', "got (1.0, nan)"),
        ("return None", "got None"),
    ],
)
def test_a_user_sort_key_that_cannot_be_ordered_is_one_line(
    tmp_path: Path, body: str, shown: str
) -> None:
    path = tmp_path / "odd.py"
    path.write_text(f"class Odd:\n    def priority(self, item, now):\n        {body}\n")
    spec = f"{path}:Odd"
    for args in (["run", "tutorial"], ["compare", "tutorial", "--strategy", "fifo"]):
        done = run_posim(*args, "--strategy", spec)
        assert done.returncode == 2, done.stdout
        assert "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1
        assert done.stderr.endswith(
            f"strategy {spec!r}: priority() must return a number or a tuple of "
            f"numbers (not NaN), {shown}\n"
        )


def test_numbers_and_tuples_of_numbers_are_fine_keys(tmp_path: Path) -> None:
    from posim.engine.strategies import check_key

    assert check_key(3, "s") == 3
    assert check_key([1, 2.5, float("inf")], "s") == (1, 2.5, float("inf"))
    assert check_key((True, -1), "s") == (True, -1)
