"""Scenario loading: built-ins, every distribution, JSON, the committed JSON Schema."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from posim.scenario import (
    BacklogItem,
    Constant,
    Empirical,
    Exponential,
    GeneratedItems,
    Lognormal,
    Normal,
    Scenario,
    ScenarioError,
    Triangular,
    Uniform,
    Weibull,
    builtin_scenarios,
    dist_mean,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO_ROOT / "posim" / "schema" / "scenario.schema.json"
TUTORIAL_FILE = REPO_ROOT / "scenarios" / "tutorial.yaml"

MINIMAL = """\
posim: 1
name: Minimal
horizon_days: 10
workflow: [{name: development}]
team: [{name: Dev, skills: {development: 1}}]
"""


def test_tutorial_loads_by_name_and_by_path() -> None:
    by_name = load_scenario("tutorial")
    by_path = load_scenario(TUTORIAL_FILE)
    by_str = load_scenario(str(TUTORIAL_FILE))
    assert by_name == by_path == by_str
    assert by_name.level == "junior"
    assert by_name.horizon_days == 40
    assert by_name.activities == ["analysis", "development", "test"]
    assert [column.wip for column in by_name.workflow] == [2, 3, 2]
    assert by_name.cadence.mode == "kanban"
    assert by_name.cadence.review_every == 10


def test_tutorial_is_small_and_friendly() -> None:
    tutorial = load_scenario("tutorial")
    assert 4 <= sum(member.count for member in tutorial.team) <= 5
    explicit = [entry for entry in tutorial.backlog if isinstance(entry, BacklogItem)]
    generated = sum(e.generate for e in tutorial.backlog if isinstance(e, GeneratedItems))
    assert 12 <= len(explicit) + generated <= 20
    assert len({item.cost_of_delay for item in explicit}) >= 5, "cost of delay should vary"
    assert 1 <= len(tutorial.stakeholders) <= 2
    for stakeholder in tutorial.stakeholders:
        assert stakeholder.requests is not None
        assert isinstance(stakeholder.requests.every, Exponential)
    assert tutorial.slippage.effort_sigma == pytest.approx(0.3)
    assert tutorial.slippage.defect_rate <= 0.15
    assert tutorial.title and tutorial.description and tutorial.lesson
    first_line = TUTORIAL_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../posim/schema/scenario.schema.json"


def test_builtin_scenarios_lists_tutorial_first() -> None:
    entries = builtin_scenarios()
    assert entries[0]["name"] == "tutorial"
    assert entries[0]["title"] == load_scenario("tutorial").display_title
    assert entries[0]["level"] == "junior"
    for entry in entries:
        assert set(entry) == {"name", "title", "level", "description"}
        assert entry["description"] and not entry["description"].endswith("\n")
    assert len({entry["name"] for entry in entries}) == len(entries)


@pytest.mark.parametrize(
    ("text", "kind", "mean"),
    [
        ("3", float, 3.0),
        ("2.5", float, 2.5),
        ("{dist: constant, value: 4}", Constant, 4.0),
        ("{dist: uniform, low: 1, high: 3}", Uniform, 2.0),
        ("{dist: triangular, low: 1, mode: 2, high: 6}", Triangular, 3.0),
        ("{dist: normal, mean: 5, sd: 1}", Normal, 5.0),
        ("{dist: lognormal, median: 2, sigma: 0.5}", Lognormal, 2 * math.exp(0.125)),
        ("{dist: exponential, mean: 2}", Exponential, 2.0),
        ("{dist: weibull, scale: 2, shape: 1}", Weibull, 2.0),
        ("{dist: empirical, values: [1, 2, 6]}", Empirical, 3.0),
    ],
)
def test_every_distribution_kind_parses(text: str, kind: type, mean: float) -> None:
    scenario = parse_scenario(
        MINIMAL.replace("{development: 1}}", "{development: 1}, absence_days: " + text + "}"),
        "dist.yaml",
    )
    absence = scenario.team[0].absence_days
    assert isinstance(absence, kind)
    assert dist_mean(absence) == pytest.approx(mean)


def test_defaults_add_nothing() -> None:
    scenario = parse_scenario(MINIMAL, "minimal.yaml")
    assert scenario.stakeholders == [] and scenario.backlog == [] and scenario.events == []
    assert scenario.slippage.effort_sigma == 0 and scenario.slippage.defect_rate == 0
    assert scenario.cadence.mode == "kanban" and scenario.cadence.replenish_every == 0
    assert scenario.ready_wip is None and scenario.workflow[0].wip is None
    assert scenario.product_owner.daily_budget is None


def test_design_example_validates() -> None:
    text = """\
posim: 1
name: Checkout revamp
description: the example of DESIGN.md section 5
level: junior
seed: 7
horizon_days: 60
cadence: {mode: kanban, replenish_every: 5, review_every: 10}
ready_wip: 4
workflow:
  - {name: analysis, wip: 2}
  - {name: development, wip: 4}
  - {name: test, wip: 2}
team:
  - {name: Ana, skills: {analysis: 1.0, development: 0.5}}
  - {name: Dev, count: 3, skills: {development: 1.0}}
  - {name: Tess, skills: {test: 1.0}}
slippage:
  effort_sigma: 0.4
  defect_rate: 0.2
  rework_fraction: 0.3
  blocker_rate: 0.1
  blocker_days: {dist: exponential, mean: 2}
  question_rate: 0.2
stakeholders:
  - name: Sales
    influence: 2
    trust: 60
    requests: {every: {dist: exponential, mean: 5}, template: feature}
templates:
  feature:
    value: {dist: lognormal, median: 1000, sigma: 0.5}
    cost_of_delay: {dist: uniform, low: 10, high: 50}
    effort: {analysis: 1, development: {dist: triangular, low: 1, mode: 3, high: 8}, test: 1}
backlog:
  - {title: Login, value: 500, cost_of_delay: 20, class: standard, requester: Sales,
     effort: {analysis: 1, development: 3, test: 1}}
  - {generate: 30, template: feature}
events:
  - {day: 20, leave: Tess}
"""
    scenario = parse_scenario(text, "design.yaml")
    assert scenario.name == "Checkout revamp"
    assert sum(member.count for member in scenario.team) == 5
    assert isinstance(scenario.backlog[1], GeneratedItems) and scenario.backlog[1].generate == 30
    assert scenario.events[0].leave == "Tess"


def test_json_scenario_equals_the_yaml_one(write_scenario: Callable[..., Path]) -> None:
    data: dict[str, Any] = yaml.safe_load(TUTORIAL_FILE.read_text(encoding="utf-8"))
    path = write_scenario(json.dumps(data, indent=2), "tutorial.json")
    assert load_scenario(path) == load_scenario("tutorial")


def test_json_numbers_in_yaml_are_numbers() -> None:
    scenario = parse_scenario(MINIMAL.replace("horizon_days: 10", "horizon_days: 1e2"), "e.yaml")
    assert scenario.horizon_days == 100.0


def test_yes_no_on_off_are_words_not_booleans() -> None:
    # YAML 1.1 reads `on`/`no` as booleans; posim reads them as text (as YAML 1.2 does).
    text = MINIMAL.replace("development", "on").replace("name: Minimal", "name: No")
    scenario = parse_scenario(text, "on.yaml")
    assert scenario.activities == ["on"]
    assert scenario.name == "No"
    assert scenario.team[0].skills == {"on": 1.0}


@pytest.mark.parametrize("fixture", ["tiny_scenario", "noisy_scenario"])
def test_a_dumped_scenario_loads_back_equal(
    fixture: str, request: pytest.FixtureRequest, write_scenario: Callable[..., Path]
) -> None:
    scenario: Scenario = request.getfixturevalue(fixture)
    data = scenario.model_dump(mode="json", by_alias=True)
    assert load_scenario(write_scenario(data)) == scenario
    assert load_scenario(write_scenario(json.dumps(data), "same.json")) == scenario


def test_node_cap_leaves_room_for_big_honest_files() -> None:
    items = "".join(
        f"  - {{title: Item {i}, value: {i}, effort: {{development: 1}}}}\n" for i in range(2000)
    )
    scenario = parse_scenario(MINIMAL + "backlog:\n" + items, "big.yaml")
    assert len(scenario.backlog) == 2000


def test_parse_scenario_accepts_bytes_with_a_bom() -> None:
    scenario = parse_scenario(b"\xef\xbb\xbf" + MINIMAL.encode(), "bom.yaml")
    assert scenario.name == "Minimal"


def test_committed_schema_is_the_generated_one() -> None:
    expected = json.dumps(scenario_json_schema(), indent=2, sort_keys=True) + "\n"
    regenerate = (
        '.venv/bin/python -c "import json; from posim.scenario import scenario_json_schema as s; '
        "open('posim/schema/scenario.schema.json', 'w').write("
        "json.dumps(s(), indent=2, sort_keys=True) + '\\n')\""
    )
    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        f"posim/schema/scenario.schema.json is stale; regenerate it with:\n{regenerate}"
    )


def test_schema_describes_the_contract_fields() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert set(schema["required"]) == {"posim", "name", "horizon_days", "workflow", "team"}
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    for key in (
        "cadence",
        "ready_wip",
        "slippage",
        "stakeholders",
        "templates",
        "backlog",
        "events",
    ):
        assert properties[key]["description"], key
    column = schema["$defs"]["Column"]["properties"]
    assert set(column) == {"name", "wip"}


def test_schema_accepts_the_tutorial_and_rejects_unknown_keys() -> None:
    import jsonschema

    data = yaml.safe_load(TUTORIAL_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(data, scenario_json_schema())
    jsonschema.Draft202012Validator.check_schema(scenario_json_schema())
    for bad in (
        {**data, "colour": "blue"},
        {**data, "workflow": [{"name": "dev", "wip": 0}]},
        {**data, "slippage": {"blocker_days": {"dist": "gauss", "mean": 1}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, scenario_json_schema())


def test_scenario_error_is_raised_not_validation_error() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(MINIMAL.replace("horizon_days: 10", "horizon_days: -1"), "neg.yaml")
    assert str(caught.value) == "neg.yaml:3: horizon_days: must be > 0 (got -1)"
