"""The built-in scenario library: every scenario validates, runs and teaches its lesson.

The lesson of each built-in is a claim in :data:`posim.career.LESSON_CHECKS`:
with the same seeds for both sides (common random numbers), the scripted
product owner that follows the lesson beats the one that ignores it on the
lesson's metric, and the 95 % paired-t confidence interval of the difference
excludes zero.  Also here: the authoring guide is generated from the schema and
committed up to date, and ``posim new-scenario`` writes a file that validates.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from scipy import stats as scipy_stats

from posim import career
from posim.engine import METRIC_NAMES, simulate
from posim.scenario import (
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)
from posim.scenario_docs import REGENERATE, render_guide, starter_scenario
from posim.stats import paired_difference

REPO_ROOT = Path(__file__).resolve().parent.parent

SCENARIO_DIR = REPO_ROOT / "scenarios"
SCHEMA_LINE = "# yaml-language-server: $schema=../posim/schema/scenario.schema.json"
BUILTIN_NAMES = sorted(path.stem for path in SCENARIO_DIR.glob("*.yaml"))
LESSON_SEEDS = range(100, 125)
"""25 paired seeds: every lesson check runs both sides on these."""


def test_the_library_has_at_least_eight_scenarios_across_every_level() -> None:
    entries = builtin_scenarios()
    assert len(entries) >= 8
    assert {entry["level"] for entry in entries} == {"junior", "mid", "senior"}
    assert sorted(entry["name"] for entry in entries) == BUILTIN_NAMES
    assert entries[0]["name"] == "tutorial"


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_builtin_validates_and_says_what_it_teaches(name: str) -> None:
    path = SCENARIO_DIR / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    assert (path.parent / "../posim/schema/scenario.schema.json").resolve().is_file()
    scenario = parse_scenario(text, path.name)
    assert scenario.name == name
    assert scenario.title and scenario.title != name
    assert len(scenario.description) > 80
    if name != "tutorial":  # the tutorial's text is the game's; it states its lesson in prose
        assert "Lesson:" in scenario.description
    assert len(scenario.lesson) > 40


def test_builtins_pass_the_committed_json_schema() -> None:
    """What an editor checks through the yaml-language-server line accepts every built-in."""
    import jsonschema

    schema = json.loads(
        (REPO_ROOT / "posim" / "schema" / "scenario.schema.json").read_text(encoding="utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    for name in BUILTIN_NAMES:
        data = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        problems = [error.message for error in validator.iter_errors(data)]
        assert problems == [], f"{name}: {problems}"
    assert list(validator.iter_errors(yaml.safe_load(starter_scenario("x")))) == []


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_builtin_header_names_the_demonstration(name: str) -> None:
    """The file's header comment says which strategies show the lesson, on which metric."""
    check = career.lesson_check(name)
    if name == "tutorial":  # not owned by the library; its check lives only in the table
        assert check is not None
        return
    header = []
    for line in (SCENARIO_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[1:]:
        if not line.startswith("#"):
            break
        header.append(line)
    comment = " ".join(header)
    assert check is not None
    assert "Lesson:" in comment
    assert check.metric in comment
    assert check.follows.split("+")[0] in comment
    if check.ignores_variant is None:
        assert check.ignores in comment


def test_every_builtin_has_one_lesson_check_and_one_place_in_the_career() -> None:
    checks = [check.scenario for check in career.LESSON_CHECKS]
    assert sorted(checks) == BUILTIN_NAMES
    placed = [name for _, name in career.career_scenarios()]
    assert sorted(placed) == BUILTIN_NAMES
    for level, name in career.career_scenarios():
        assert load_scenario(name).level == level
    for check in career.LESSON_CHECKS:
        assert check.metric in METRIC_NAMES


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_builtin_runs_headless(name: str) -> None:
    scenario = load_scenario(name)
    result = simulate(scenario, strategy="wsjf", keep_records=False)
    assert tuple(result.metrics) == METRIC_NAMES
    assert result.metrics["items_done"] >= 5
    assert result.metrics["value_delivered"] > 0
    assert result.score.grade in ("A", "B", "C", "D", "F")
    if scenario.products:
        assert set(result.by_product) == {p.name for p in scenario.products}
        done = sum(m["items_done"] or 0 for m in result.by_product.values())
        assert done == result.metrics["items_done"]


@pytest.mark.parametrize(
    "check", career.LESSON_CHECKS, ids=[check.scenario for check in career.LESSON_CHECKS]
)
def test_lesson_holds_with_paired_seeds(check: career.LessonCheck) -> None:
    follows, ignores = career.lesson_runs(check, LESSON_SEEDS)
    assert None not in follows and None not in ignores
    comparison = paired_difference(ignores, follows)  # follows - ignores, per seed
    low, high = comparison["ci95"]
    assert comparison["n"] == len(LESSON_SEEDS)
    if check.lower_is_better:
        assert high < 0, f"{check.describe()}: ci95 of the difference {low:.3g}..{high:.3g}"
    else:
        assert low > 0, f"{check.describe()}: ci95 of the difference {low:.3g}..{high:.3g}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "check", career.LESSON_CHECKS, ids=[check.scenario for check in career.LESSON_CHECKS]
)
def test_lesson_holds_on_other_seeds_too(check: career.LessonCheck) -> None:
    """Not tuned to one seed range: 40 other paired seeds, Bonferroni over every lesson."""
    follows, ignores = career.lesson_runs(check, range(7000, 7040))
    comparison = paired_difference(ignores, follows, comparisons=len(career.LESSON_CHECKS))
    low, high = comparison["ci95"]
    assert (high < 0) if check.lower_is_better else (low > 0), check.describe()


def test_paired_interval_agrees_with_scipy() -> None:
    """The interval the lesson tests use is the textbook paired-t interval."""
    check = career.lesson_check("loud-stakeholder")
    assert check is not None
    follows, ignores = career.lesson_runs(check, range(100, 110))
    differences = [float(f) - float(i) for f, i in zip(follows, ignores, strict=True)]
    mean = sum(differences) / len(differences)
    sem = scipy_stats.sem(differences)
    expected = scipy_stats.t.interval(0.95, len(differences) - 1, loc=mean, scale=sem)
    low, high = paired_difference(ignores, follows)["ci95"]
    assert low == pytest.approx(expected[0], rel=1e-6)
    assert high == pytest.approx(expected[1], rel=1e-6)


def test_variant_replaces_only_the_named_fields() -> None:
    scenario = load_scenario("tester-leaves")
    check = career.lesson_check("tester-leaves")
    assert check is not None and check.ignores_variant is not None
    unlimited = career.variant(scenario, check.ignores_variant)
    assert [column.wip for column in unlimited.workflow] == [None, None, None]
    assert unlimited.ready_wip is None
    assert [column.wip for column in scenario.workflow] == [2, 4, 3]
    assert unlimited.team == scenario.team
    assert unlimited.events == scenario.events
    assert unlimited.backlog == scenario.backlog


def test_two_products_shows_where_the_loudest_ordering_loses() -> None:
    """Per product: loudest serves the CEO's app and starves the field tool."""
    scenario = load_scenario("two-products")
    field_gap = []
    for seed in range(100, 110):
        wsjf = simulate(scenario, strategy="wsjf", seed=seed, keep_records=False)
        loudest = simulate(scenario, strategy="loudest", seed=seed, keep_records=False)
        field_gap.append(
            (wsjf.by_product["Field"]["net_value"] or 0)
            - (loudest.by_product["Field"]["net_value"] or 0)
        )
    assert sum(field_gap) / len(field_gap) > 0
    assert paired_difference([0.0] * len(field_gap), field_gap)["ci95"][0] > 0


def _run_posim(
    args: list[str], posim_command: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run posim in ``cwd`` with its career profile kept in ``cwd`` too."""
    env = {**os.environ, "POSIM_HOME": str(cwd)}
    return subprocess.run(
        [*posim_command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_posim_run_json_on_a_builtin(posim_command: list[str], tmp_path: Path) -> None:
    done = _run_posim(
        ["run", "expedite-storm", "--strategy", "cos", "--runs", "2", "--json"],
        posim_command,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["scenario"] == "expedite-storm"
    assert document["strategy"] == "cos"
    assert len(document["runs"]) == 2
    assert document["runs"][0]["metrics"]["items_done"] > 0
    assert set(document["summary"]) == set(METRIC_NAMES)


def test_posim_scenarios_json_lists_every_builtin(posim_command: list[str], tmp_path: Path) -> None:
    done = _run_posim(["scenarios", "--json"], posim_command, tmp_path)
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert sorted(entry["name"] for entry in entries) == BUILTIN_NAMES
    for entry in entries:
        assert set(entry) == {"name", "title", "level", "description"}
        assert entry["title"] == load_scenario(entry["name"]).title
    assert entries[0]["name"] == "tutorial"


# --------------------------------------------------------------------------
# The authoring guide and new-scenario
# --------------------------------------------------------------------------


def test_committed_guide_is_generated_from_the_schema() -> None:
    committed = (REPO_ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert committed == render_guide(), (
        f"docs/scenarios.md is out of date; regenerate it with `{REGENERATE}`"
    )


def test_guide_documents_every_field_of_every_model() -> None:
    guide = render_guide()
    schema = scenario_json_schema()
    models = [schema, *schema["$defs"].values()]
    for model in models:
        for field, spec in model.get("properties", {}).items():
            row = f"| `{field}` |"
            assert row in guide, f"{model['title']}.{field} is missing from the guide"
            description = " ".join(spec["description"].split()).replace("|", "\\|")
            assert description.rstrip(".") in guide
    for name in BUILTIN_NAMES:
        assert f"(`{name}`," in guide


def test_starter_scenario_validates_and_runs() -> None:
    text = starter_scenario("my-shop")
    scenario = parse_scenario(text, "my-shop.yaml")
    assert scenario.name == "my-shop"
    assert text.startswith("# yaml-language-server: $schema=file://")
    schema_uri = text.splitlines()[0].split("$schema=", 1)[1]
    assert Path(schema_uri.removeprefix("file://")).is_file()
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 10
    data = yaml.safe_load(text)
    assert {"stakeholders", "templates", "backlog", "events", "slippage"} <= set(data)
    result = simulate(scenario, strategy="wsjf", keep_records=False)
    assert result.metrics["items_done"] > 0


def test_new_scenario_writes_a_valid_file_and_never_overwrites(
    posim_command: list[str], tmp_path: Path
) -> None:
    done = _run_posim(["new-scenario", "coffee-shop"], posim_command, tmp_path)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "coffee-shop.yaml"
    assert written.is_file()
    assert "coffee-shop.yaml" in done.stdout
    checked = _run_posim(["validate", "coffee-shop.yaml"], posim_command, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert load_scenario(written).name == "coffee-shop"

    written.write_text("# mine, do not touch\n", encoding="utf-8")
    again = _run_posim(["new-scenario", "coffee-shop"], posim_command, tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "coffee-shop.yaml: already exists; not overwriting it"
    ]
    assert "Traceback" not in again.stderr
    assert written.read_text(encoding="utf-8") == "# mine, do not touch\n"


def test_new_scenario_keeps_a_yaml_suffix(posim_command: list[str], tmp_path: Path) -> None:
    done = _run_posim(["new-scenario", "plan.yml"], posim_command, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "plan.yml").is_file()
    assert not (tmp_path / "plan.yml.yaml").exists()
    assert load_scenario(tmp_path / "plan.yml").name == "plan"
