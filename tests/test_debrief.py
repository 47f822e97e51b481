"""The debrief that holds over seeds: ``posim replay SAVE --debrief`` and :mod:`posim.debrief`.

The JSON document's keys are the contract of DESIGN section 6; its figures
must be those of ``posim run`` on the same seeds (``over_seeds``) and of
:func:`posim.simulate` on the player's seed (``same_luck``), identical for any
number of jobs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from posim import career, cli, debrief, saves, stats
from posim.engine import METRIC_NAMES, ORDERINGS, replication_seed, simulate
from posim.engine.commands import Reorder
from posim.engine.simulation import Simulation
from posim.runs import run_replications
from posim.scenario import load_scenario

RUNS = 30
"""Other seeds of the contract test (the debrief's default)."""

SPREAD_KEYS = ["mean", "ci95", "p15", "p85"]


def write_save(
    folder: Path, name: str = "tutorial", day: float = 3.0, seed: int | None = None
) -> Path:
    """A save of a game of ``name`` played to ``day`` (one command: the last backlog item up)."""
    scenario, digest = saves.load_source(name)
    sim = Simulation(scenario, seed, strategy=None)
    sim.run_until(1.0)
    sim.apply(Reorder(sim.backlog[-1].id, 0))
    sim.run_until(day)
    path = folder / f"{name}.json"
    saves.write_save(path, saves.from_simulation(sim, name, digest))
    return path


def finished_game(save: Path) -> Any:
    """The save replayed and played on to the horizon with no further commands."""
    game = saves.read_save(save)
    sim = saves.restore(game, saves.scenario_of(game))
    sim.run()
    return sim.result()


def replay(*args: str) -> Any:
    return CliRunner().invoke(cli.app, ["replay", *args])


@pytest.fixture(scope="module")
def tutorial_debrief(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("debrief")
    save = write_save(folder)
    done = replay(str(save), "--debrief", "--json")
    assert done.exit_code == 0, done.output
    return save, json.loads(done.stdout)


def test_replay_debrief_json_has_exactly_the_contract_keys(
    tutorial_debrief: tuple[Path, dict[str, Any]],
) -> None:
    _, document = tutorial_debrief
    assert list(document) == [
        "posim",
        "scenario",
        "seed",
        "player",
        "same_luck",
        "over_seeds",
        "lessons",
    ]
    assert document["scenario"] == "tutorial" and document["seed"] == 7
    player = document["player"]
    assert {"score", "grade", "terms", "metrics", "trust_log"} <= set(player)
    assert list(player["metrics"]) == list(METRIC_NAMES)
    for term in player["terms"]:
        assert {"name", "weight", "points", "why"} <= set(term)
    assert player["trust_log"], "an idle player's Sales requests wait: trust moves"
    for entry in player["trust_log"]:
        assert {"day", "stakeholder", "change", "cause"} <= set(entry)
    assert list(document["same_luck"]) == list(ORDERINGS)
    for entry in document["same_luck"].values():
        assert list(entry) == ["score", "grade", "metrics"]
        assert list(entry["metrics"]) == list(METRIC_NAMES)
    over = document["over_seeds"]
    assert list(over) == ["runs", "seed", "strategies", "your_luck_percentile"]
    assert over["runs"] == RUNS and over["seed"] == 7
    assert list(over["strategies"]) == list(ORDERINGS)
    for summary in over["strategies"].values():
        assert next(iter(summary)) == "score"
        assert set(summary) == set(METRIC_NAMES)
        for spread in summary.values():
            assert list(spread) == SPREAD_KEYS
    assert list(over["your_luck_percentile"]) == list(ORDERINGS)
    (lesson,) = document["lessons"]
    assert list(lesson)[:7] == [
        "lesson",
        "metric",
        "recommended",
        "warned",
        "held_this_game",
        "holds_on_average",
        "player_beat_warned",
    ]
    assert lesson["metric"] == "cost_of_delay"
    assert (lesson["recommended"], lesson["warned"]) == ("wsjf", "fifo")
    assert lesson["lesson"] == " ".join(load_scenario("tutorial").lesson.split())


def test_same_luck_is_each_ordering_on_the_players_seed(
    tutorial_debrief: tuple[Path, dict[str, Any]],
) -> None:
    save, document = tutorial_debrief
    scenario = load_scenario("tutorial")
    for name in ("fifo", "wsjf", "loudest"):
        run = simulate(scenario, strategy=name, seed=7, keep_records=False)
        shown = document["same_luck"][name]
        assert shown["score"] == pytest.approx(run.score.total, abs=1e-9)
        assert shown["grade"] == run.score.grade
        assert shown["metrics"]["net_value"] == pytest.approx(run.metrics["net_value"])
    player = finished_game(save)
    assert document["player"]["score"] == pytest.approx(player.score.total)
    assert len(document["player"]["trust_log"]) == len(player.trust_changes)


def test_over_seeds_agree_with_posim_run_on_the_same_seeds(
    tutorial_debrief: tuple[Path, dict[str, Any]],
) -> None:
    _, document = tutorial_debrief
    done = CliRunner().invoke(
        cli.app,
        ["run", "tutorial", "--strategy", "wsjf", "--seed", "7", "--runs", str(RUNS), "--json"],
    )
    assert done.exit_code == 0, done.output
    run = json.loads(done.stdout)
    assert [r["seed"] for r in run["runs"]] == [replication_seed(7, r) for r in range(RUNS)]
    shown = document["over_seeds"]["strategies"]["wsjf"]
    for metric in ("score", "net_value", "trust_mean", "cost_of_delay", "items_done"):
        assert shown[metric]["mean"] == pytest.approx(run["summary"][metric]["mean"], rel=1e-12)
        assert shown[metric]["ci95"] == pytest.approx(run["summary"][metric]["ci95"], rel=1e-12)
        values = [r["metrics"][metric] for r in run["runs"]]
        assert shown[metric]["p15"] == pytest.approx(stats.percentile(values, 15), rel=1e-12)
        assert shown[metric]["p85"] == pytest.approx(stats.percentile(values, 85), rel=1e-12)
    scores = [r["metrics"]["score"] for r in run["runs"]]
    mine = document["same_luck"]["wsjf"]["score"]
    below = sum(s < mine for s in scores) + sum(s == mine for s in scores) / 2
    assert document["over_seeds"]["your_luck_percentile"]["wsjf"] == pytest.approx(below / RUNS)


def test_lesson_figures_follow_from_the_runs(
    tutorial_debrief: tuple[Path, dict[str, Any]],
) -> None:
    save, document = tutorial_debrief
    (lesson,) = document["lessons"]
    same = document["same_luck"]
    assert lesson["this_game"]["recommended"] == same["wsjf"]["metrics"]["cost_of_delay"]
    assert lesson["this_game"]["warned"] == same["fifo"]["metrics"]["cost_of_delay"]
    assert lesson["held_this_game"] is (
        lesson["this_game"]["recommended"] < lesson["this_game"]["warned"]
    )
    player = finished_game(save).metrics["cost_of_delay"]
    assert lesson["this_game"]["player"] == pytest.approx(player)
    assert lesson["player_beat_warned"] is (player < lesson["this_game"]["warned"])
    scenario = load_scenario("tutorial")
    seeds = [replication_seed(7, r) for r in range(RUNS)]
    wsjf = run_replications(scenario, "wsjf", seed=7, runs=RUNS).values("cost_of_delay")
    fifo = run_replications(scenario, "fifo", seed=7, runs=RUNS).values("cost_of_delay")
    assert len(seeds) == len(wsjf)
    paired = stats.paired_difference(fifo, wsjf)
    assert lesson["over_seeds"]["ci95"] == pytest.approx(paired["ci95"])
    assert lesson["holds_on_average"] is (paired["ci95"][1] < 0)
    # On the tutorial's own seed the lesson shows, and it holds on average.
    assert lesson["held_this_game"] and lesson["holds_on_average"]
    sentence = lesson["sentence"]
    assert sentence.startswith("On your seed wsjf beat fifo on cost of delay")
    assert "over 30 other seeds it does, with 95 % confidence" in sentence


def test_debrief_is_identical_for_any_number_of_jobs(tmp_path: Path) -> None:
    save = write_save(tmp_path, "loud-stakeholder")
    one = replay(str(save), "--debrief", "--json", "--runs", "4", "--jobs", "1")
    two = replay(str(save), "--debrief", "--json", "--runs", "4", "--jobs", "2")
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert one.stdout == two.stdout
    document = json.loads(one.stdout)
    assert document["over_seeds"]["runs"] == 4
    assert document["seed"] == load_scenario("loud-stakeholder").seed


def test_a_variant_lesson_runs_the_warned_set_up(tmp_path: Path) -> None:
    """tester-leaves warns against wsjf without WIP limits: a set-up, not an ordering."""
    save = write_save(tmp_path, "tester-leaves", day=2.0)
    result = finished_game(save)
    document = debrief.build(load_scenario("tester-leaves"), result, runs=3)
    (lesson,) = document["lessons"]
    check = career.lesson_check("tester-leaves")
    assert check is not None
    assert lesson["warned_label"] == "wsjf without WIP limits"
    assert (lesson["recommended"], lesson["warned"]) == ("wsjf", "wsjf")
    follows, ignores = career.lesson_runs(check, [result.seed])
    assert lesson["this_game"]["recommended"] == follows[0]
    assert lesson["this_game"]["warned"] == ignores[0]
    # The warned set-up is not among the orderings shown.
    assert set(document["same_luck"]) == set(ORDERINGS)


def test_progress_counts_every_simulation_and_cancel_stops(tmp_path: Path) -> None:
    save = write_save(tmp_path)
    result = finished_game(save)
    scenario = load_scenario("tutorial")
    seen: list[tuple[int, int]] = []
    debrief.build(scenario, result, runs=2, progress=lambda done, total: seen.append((done, total)))
    total = debrief.simulations(scenario, 2)
    assert total == len(ORDERINGS) * 3
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(debrief.Cancelled):
        debrief.build(scenario, result, runs=2, cancelled=lambda: True)


def test_luck_percentile_counts_ties_half() -> None:
    assert debrief.luck_percentile(5.0, [1.0, 5.0, 9.0, 5.0]) == pytest.approx(0.5)
    assert debrief.luck_percentile(10.0, [1.0, 2.0]) == 1.0
    assert debrief.luck_percentile(0.0, [1.0, 2.0]) == 0.0
    assert debrief.luck_percentile(1.0, [None, None]) is None


def test_out_writes_the_trainers_copy(tmp_path: Path) -> None:
    save = write_save(tmp_path)
    out = tmp_path / "copy"
    done = replay(str(save), "--debrief", "--json", "--runs", "3", "--out", str(out))
    assert done.exit_code == 0, done.output
    written = json.loads((out / "debrief.json").read_text(encoding="utf-8"))
    assert written == json.loads(done.stdout)
    text = (out / "debrief.md").read_text(encoding="utf-8")
    assert text.startswith("# Debrief: Tutorial: the little online shop\n")
    for heading in (
        "## Lessons",
        "## Score, term by term",
        "## Same luck",
        "## Over 3 other seeds",
        "## Trust log",
    ):
        assert heading in text
    assert written["lessons"][0]["sentence"] in text
    first = written["player"]["trust_log"][0]
    assert f"| {first['day']:.1f} | {first['stakeholder']} | {first['change']:+.1f} |" in text


def test_readable_debrief_names_the_lessons_metric(tmp_path: Path) -> None:
    save = write_save(tmp_path)
    done = replay(str(save), "--debrief", "--runs", "3")
    assert done.exit_code == 0, done.output
    assert "tutorial · seed 7 · score" in done.stdout
    assert "lesson's metric cost_of_delay" in done.stdout
    assert "Same luck: every ordering on your seed" in done.stdout
    assert "Over 3 other seeds" in done.stdout
    assert "On your seed wsjf" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x"], "posim replay: --out needs --debrief"),
        (["--debrief", "--runs", "1"], "Invalid value for '--runs'"),
    ],
)
def test_bad_debrief_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    save = write_save(tmp_path)
    done = replay(str(save), *args)
    assert done.exit_code == 2
    assert message in done.output
    assert "Traceback" not in done.output


def test_a_missing_save_is_one_line_exit_2(tmp_path: Path) -> None:
    done = replay(str(tmp_path / "nope.json"), "--debrief")
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == [
        f"{tmp_path / 'nope.json'}: cannot read: No such file or directory"
    ]


def test_a_scenario_without_a_lesson_has_no_lessons() -> None:
    scenario = load_scenario("tutorial").model_copy(update={"name": "my-shop"})
    result = simulate(scenario, strategy="wsjf", seed=3, keep_records=False)
    document = debrief.build(scenario, result, runs=2)
    assert document["lessons"] == []
    assert "## Lessons" not in debrief.markdown(document)


def test_bad_runs_and_jobs_are_refused() -> None:
    scenario = load_scenario("tutorial")
    result = simulate(scenario, strategy="wsjf", seed=3, keep_records=False)
    with pytest.raises(debrief.DebriefError, match="--runs must be between 2"):
        debrief.build(scenario, result, runs=1)
    with pytest.raises(debrief.DebriefError, match="--jobs must be >= 0"):
        debrief.build(scenario, result, runs=2, jobs=-1)
