"""Seeds: ``posim play --seed random`` beside ``--seed N``; the seed shows and is saved.

The default stays the scenario's seed (a class shares its luck); a random seed
is recorded in the save, so ``posim replay`` reproduces the game.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from posim import cli
from posim.engine.randomness import RANDOM_SEED_LIMIT, random_seed


def test_parse_play_seed() -> None:
    assert cli.parse_play_seed(None) is None
    assert cli.parse_play_seed("42") == 42
    assert cli.parse_play_seed(str(cli.MAX_SEED)) == cli.MAX_SEED
    for _ in range(20):
        assert 0 <= cli.parse_play_seed("random") < RANDOM_SEED_LIMIT  # type: ignore[operator]
    assert len({random_seed() for _ in range(20)}) > 1


@pytest.mark.parametrize("bad", ["abc", "-3", "1.5", str(2**63), ""])
def test_a_bad_seed_is_one_line_exit_2(bad: str) -> None:
    with pytest.raises(typer.Exit) as stopped:
        cli.parse_play_seed(bad)
    assert stopped.value.exit_code == 2
    done = CliRunner().invoke(cli.app, ["play", "--seed", bad])
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == [
        f"posim play: --seed must be a whole number from 0 to {cli.MAX_SEED} or 'random', "
        f"got {bad!r}"
    ]


@pytest.mark.parametrize(("given", "expected"), [([], None), (["--seed", "99"], 99)])
def test_play_passes_the_seed_to_the_game(
    monkeypatch: pytest.MonkeyPatch, given: list[str], expected: int | None
) -> None:
    seen: list[Any] = []

    def fake_build_app(scenario: Any, **options: Any) -> None:
        seen.append(options["seed"])

    monkeypatch.setattr("posim.tui.app.build_app", fake_build_app)
    done = CliRunner().invoke(cli.app, ["play", "tutorial", *given])
    assert done.exit_code == 2  # no terminal here: the game itself does not start
    assert "needs a terminal" in done.output
    assert seen == [expected]


def test_play_seed_random_picks_a_new_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(
        "posim.tui.app.build_app", lambda scenario, **options: seen.append(options["seed"])
    )
    monkeypatch.setattr("posim.engine.randomness.secrets.randbelow", lambda limit: 424242)
    CliRunner().invoke(cli.app, ["play", "tutorial", "--seed", "random"])
    assert seen == [424242]


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_play_seed_random_in_tmux_shows_and_saves_the_seed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    socket = str(tmp_path / "tmux.sock")
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env = {**inherited, "POSIM_HOME": str(home), "TERM": "xterm-256color"}
    script = Path(sys.executable).with_name("posim")
    posim = str(script) if script.exists() else f"{sys.executable} -m posim"

    def tmux(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", socket, *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=20,
        ).stdout

    try:
        tmux(
            "new-session", "-d", "-s", "seed", "-x", "120", "-y", "40",
            f"{posim} play tutorial --seed random",
        )  # fmt: skip
        deadline = time.monotonic() + 20
        shown = ""
        while time.monotonic() < deadline:
            shown = tmux("capture-pane", "-p", "-t", "seed")
            if re.search(r"seed \d+", shown):
                break
            time.sleep(0.2)
        found = re.search(r"seed (\d+)", shown)
        assert found, f"no seed on the clock bar:\n{shown}"
        seed = int(found.group(1))
        tmux("send-keys", "-t", "seed", "C-q")
        autosave = home / "autosave.json"
        deadline = time.monotonic() + 20
        while not autosave.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads(autosave.read_text(encoding="utf-8"))["seed"] == seed
    finally:
        tmux("kill-server")
    replayed = CliRunner().invoke(cli.app, ["replay", str(autosave), "--json"])
    assert json.loads(replayed.stdout)["seed"] == seed
