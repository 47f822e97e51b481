"""Saves: versioned JSON, atomic writes, clear one-line errors, exact replays.

``posim.saves`` has no Textual import (``posim replay`` is headless); these
tests never start the TUI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from posim import saves
from posim.engine import Accept, Answer, Reorder, Report, SetWip
from posim.tui.game import Game

from .conftest import REPO_ROOT


def played_game(until: float = 14.0) -> Game:
    """The tutorial with a few commands given between advances."""
    game = Game.new("tutorial")
    game.apply(Reorder(12, 0))
    game.advance_to(3.25)
    game.apply(SetWip("development", 4))
    while game.now < until:
        game.step_day()
        snapshot = game.snapshot()
        for item in snapshot.questions:
            game.apply(Answer(item.id))
        for item in snapshot.inbox:
            game.apply(Accept(item.id, 0))
        for name in game.reviews_due():
            game.apply(Report(name, "at_risk", 30.0))
    return game


def test_round_trip_and_format(tmp_path: Path) -> None:
    game = played_game()
    path = game.save(tmp_path / "deep" / "game.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["posim_save"] == saves.SAVE_FORMAT == 2
    assert data["scenario"]["name"] == "tutorial"
    assert data["scenario"]["source"] == "tutorial"
    tutorial = (REPO_ROOT / "scenarios" / "tutorial.yaml").read_bytes()
    assert data["scenario"]["sha256"] == hashlib.sha256(tutorial).hexdigest()
    assert data["seed"] == 7 and data["day"] == 14.0
    assert data["commands"][:2] == [
        {"day": 0.0, "type": "reorder", "item": 12, "rank": 0},
        {"day": 3.25, "type": "set_wip", "column": "development", "limit": 4},
    ]
    save = saves.read_save(path)
    assert save.commands == game.sim.commands
    assert save.day == game.now
    assert [p.name for p in path.parent.iterdir()] == ["game.json"]  # no temporary left


def test_a_career_game_stays_a_career_game_when_continued(tmp_path: Path) -> None:
    game = played_game(until=3.0)
    game.career = False  # the tutorial on its own seed counts for the career: not this game
    plain = json.loads(game.save(tmp_path / "plain.json").read_text(encoding="utf-8"))
    assert "career" not in plain  # saves of ordinary games are unchanged
    assert Game.load(tmp_path / "plain.json").career is False
    game.career = True
    path = game.save(tmp_path / "career.json")
    assert json.loads(path.read_text(encoding="utf-8"))["career"] is True
    again = Game.load(path)
    assert again.career is True
    assert json.loads(again.save(tmp_path / "again.json").read_text(encoding="utf-8"))["career"]


def test_restore_gives_the_same_game(tmp_path: Path) -> None:
    game = played_game()
    path = game.save(tmp_path / "game.json")
    again = Game.load(path)
    assert again.now == game.now
    assert again.snapshot() == game.snapshot()
    assert again.sim.commands == game.sim.commands


def test_replay_of_a_finished_game_equals_the_game_and_simulate(tmp_path: Path) -> None:
    game = played_game(until=40.0)
    assert game.finished
    shown = game.result()
    path = game.save(tmp_path / "done.json")
    save, replayed = saves.replay(path)
    assert replayed.metrics == shown.metrics
    assert replayed.score == shown.score
    assert replayed.trust_changes == shown.trust_changes
    # The same replay from the library, step by step.
    direct = saves.restore(save, game.scenario).result()
    assert direct.metrics == shown.metrics


def test_a_partial_save_replays_to_its_day(tmp_path: Path) -> None:
    game = played_game(until=14.0)
    path = game.save(tmp_path / "partial.json")
    save, replayed = saves.replay(path)
    assert replayed.metrics == game.result().metrics
    # The result of day 14, not of the horizon (where more items are done).
    to_the_end = saves.restore(dataclasses.replace(save, day=40.0), game.scenario).result()
    assert replayed.metrics["items_done"] < to_the_end.metrics["items_done"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    game = played_game(until=2.0)
    path = game.save(tmp_path / "game.json")
    before = path.read_bytes()

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("posim.saves.os.replace", broken)
    game.step_day()
    with pytest.raises(saves.SaveError, match=r"game\.json: cannot write: No space left"):
        game.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["game.json"]


HEAD = (
    b'{"posim_save": 1, "scenario": {"name": "t", "source": "tutorial", "sha256": "'
    + b"0" * 64
    + b'"},'
)
"""The start of a save document with a well-formed scenario reference."""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", ":1: not valid JSON: Expecting property name enclosed in double quotes"),
        (b"\xff\xfe", ": not UTF-8 text"),
        (b"[1, 2]", ": not a posim save (no posim_save key)"),
        (b'{"posim_save": 3, "seed": 1}', ": save format 3 is newer than this posim reads (2)"),
        (b'{"posim_save": "1"}', ": posim_save must be a format number, not '1'"),
        (b'{"posim_save": 1, "scenario": "tutorial", "seed": 1}', ": scenario: must be a mapping"),
        (
            HEAD + b' "seed": -1}',
            ": seed: must be a whole number >= 0 and < 2**63, not -1",
        ),
        (
            HEAD + b' "seed": 7, "commands": [{"day": 1, "type": "fly"}]}',
            ": commands.0.type: must be one of reorder, commit",
        ),
        (
            HEAD + b' "seed": 7, "career": "yes"}',
            ": career: must be true or false, not 'yes'",
        ),
        (
            HEAD + b' "seed": 7, "commands": [{"day": 2, "type": "answer", "item": 1},'
            b' {"day": 1, "type": "answer", "item": 1}]}',
            ": commands.1.day: must be a number >= the previous command's day",
        ),
    ],
)
def test_bad_saves_give_one_line(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(saves.SaveError) as caught:
        saves.read_save(path)
    message = str(caught.value)
    assert message.startswith(f"{path}{problem}")
    assert "\n" not in message


def test_missing_file_and_changed_scenario(tmp_path: Path) -> None:
    with pytest.raises(saves.SaveError, match=r"nope\.json: cannot read: No such file"):
        saves.read_save(tmp_path / "nope.json")
    scenario = tmp_path / "mine.yaml"
    scenario.write_bytes((REPO_ROOT / "scenarios" / "tutorial.yaml").read_bytes())
    game = Game.new(
        str(scenario.relative_to(Path.cwd()))
        if scenario.is_relative_to(Path.cwd())
        else str(scenario)
    )
    assert game.source == str(scenario.resolve())  # loads from any folder
    game.step_day()
    path = game.save(tmp_path / "mine-save.json")
    assert Game.load(path).now == 1.0
    scenario.write_text(scenario.read_text().replace("horizon_days: 40", "horizon_days: 41"))
    with pytest.raises(saves.SaveError, match="changed since the game was saved"):
        saves.replay(path)


def test_a_command_the_engine_refuses_is_a_save_error(tmp_path: Path) -> None:
    game = Game.new("tutorial")
    data = saves.to_json(game.to_save())
    data["commands"] = [{"day": 0.0, "type": "answer", "item": 3}]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data))
    with pytest.raises(saves.SaveError, match=r"odd\.json: commands\.0: #3 has no open question"):
        saves.replay(path)


def test_cli_replay_errors_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "newer.json"
    path.write_text('{"posim_save": 99}')
    done = subprocess.run(
        [sys.executable, "-m", "posim", "replay", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{path}: save format 99 is newer than this posim reads (2); upgrade posim to load it"
    )
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "posim", "play", "--load", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().endswith("missing.json: cannot read: No such file or directory")
    done = subprocess.run(
        [sys.executable, "-m", "posim", "play", str(tmp_path / "nowhere.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nowhere.yaml: cannot read" in done.stderr


def test_saves_module_loads_no_textual() -> None:
    code = "import posim.saves, sys; print('textual' in sys.modules, 'rich' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_data_dir_follows_posim_home(posim_home: Path) -> None:
    assert saves.data_dir() == posim_home
    assert saves.autosave_path() == posim_home / "autosave.json"
    game = Game.new("tutorial", autosave_to=saves.autosave_path())
    game.step_day()  # a whole day passed: autosave
    assert saves.read_save(posim_home / "autosave.json").day == 1.0


def test_build_app_with_a_seed_starts_the_tutorial_with_it() -> None:
    from posim.tui.app import build_app

    app = build_app(seed=123)
    assert app.game is not None
    assert app.game.scenario.name == "tutorial" and app.game.seed == 123
    assert build_app().game is None  # the title screen
