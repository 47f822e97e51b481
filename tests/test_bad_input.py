"""Bad scenario files: every problem at once, one line each, ``file:LINE: path: message``.

The fixtures live in ``tests/data/``; each test names the exact lines it expects,
so a wrong line number fails.  The CLI tests at the end check ``posim validate``
turns the same problems into exit status 2 without a traceback.
"""

from __future__ import annotations

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


def run_posim(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m posim ARGS`` from the repository checkout."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "posim", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
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

    import posim.scenario

    with_libyaml = problems_of(DATA / name)
    monkeypatch.setattr(posim.scenario, "_SafeComposer", type("Py", (yaml.SafeLoader,), {}))
    assert problems_of(DATA / name) == with_libyaml


def test_pure_python_yaml_reads_words_and_numbers_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    import posim.scenario

    text = MINIMAL.replace("name: Minimal", "name: No").replace(
        "horizon_days: 10", "horizon_days: 1e1"
    )
    with_libyaml = parse_scenario(text, "a.yaml")
    monkeypatch.setattr(posim.scenario, "_SafeComposer", type("Py", (yaml.SafeLoader,), {}))
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
