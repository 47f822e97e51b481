"""Career mode: unlock rules, the let-go rule, the saved profile and ``posim career``.

Every test keeps the profile in a temporary ``POSIM_HOME`` (an autouse
fixture), so no test ever reads or writes the real user data folder.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from posim import career
from posim.engine import Simulation, simulate
from posim.scenario import load_scenario

JUNIOR = career.CAREER["junior"]
MID = career.CAREER["mid"]
SENIOR = career.CAREER["senior"]


@pytest.fixture(autouse=True)
def posim_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private POSIM_HOME for every test."""
    home = tmp_path / "home"
    monkeypatch.setenv("POSIM_HOME", str(home))
    return home


def _pass(profile: career.Profile, *names: str, score: float = 80.0) -> list[str]:
    opened: list[str] = []
    for name in names:
        opened += career.record_result(profile, name, score, "B")
    return opened


# --------------------------------------------------------------------------
# Unlock rules
# --------------------------------------------------------------------------


def test_a_fresh_career_opens_only_the_tutorial() -> None:
    profile = career.new_profile()
    assert career.unlocked(profile) == ["tutorial"]
    assert career.next_scenario(profile) == "tutorial"
    assert career.current_level(profile) == "junior"
    assert career.status(profile, "tutorial") == "unlocked"
    assert all(career.status(profile, name) == "locked" for name in (*JUNIOR[1:], *MID, *SENIOR))


def test_career_order_is_junior_mid_senior() -> None:
    assert career.LEVELS == ("junior", "mid", "senior")
    assert career.career_scenarios()[0] == ("junior", "tutorial")
    assert [level for level, _ in career.career_scenarios()] == (
        ["junior"] * len(JUNIOR) + ["mid"] * len(MID) + ["senior"] * len(SENIOR)
    )


@pytest.mark.parametrize("grade", ["C", "D", "F"])
def test_a_grade_below_b_unlocks_nothing(grade: str) -> None:
    profile = career.new_profile()
    assert career.record_result(profile, "tutorial", 60.0, grade) == []
    assert career.status(profile, "tutorial") == "unlocked"
    assert career.unlocked(profile) == ["tutorial"]
    record = profile.record("tutorial")
    assert (record.attempts, record.passed, record.best_grade) == (1, False, grade)


@pytest.mark.parametrize("grade", ["A", "B"])
def test_grade_b_or_better_unlocks_the_next_scenario(grade: str) -> None:
    profile = career.new_profile()
    assert career.record_result(profile, "tutorial", 72.5, grade) == [JUNIOR[1]]
    assert career.status(profile, "tutorial") == "passed"
    assert career.status(profile, JUNIOR[1]) == "unlocked"
    assert career.status(profile, JUNIOR[2]) == "locked"
    assert career.next_scenario(profile) == JUNIOR[1]
    # Passing it again opens nothing new.
    assert career.record_result(profile, "tutorial", 90.0, "A") == []


def test_passing_every_scenario_of_a_level_opens_the_next_level() -> None:
    profile = career.new_profile()
    assert _pass(profile, *JUNIOR[:-1]) == list(JUNIOR[1:])
    assert career.status(profile, MID[0]) == "locked"
    assert not career.level_unlocked(profile, "mid")
    assert career.record_result(profile, JUNIOR[-1], 75.0, "B") == [MID[0]]
    assert career.level_unlocked(profile, "mid")
    assert career.current_level(profile) == "mid"
    assert career.status(profile, MID[1]) == "locked"
    _pass(profile, *MID)
    assert career.current_level(profile) == "senior"
    assert career.next_scenario(profile) == SENIOR[0]
    _pass(profile, *SENIOR)
    assert career.next_scenario(profile) is None
    assert career.unlocked(profile) == [name for _, name in career.career_scenarios()]


def test_the_next_level_waits_for_every_scenario_of_the_level() -> None:
    """Passing the last scenario of a level (from an old profile) is not enough."""
    profile = career.new_profile()
    _pass(profile, JUNIOR[0], JUNIOR[-1])
    assert career.status(profile, JUNIOR[-1]) == "passed"
    assert career.status(profile, MID[0]) == "locked"


def test_best_score_and_grade_are_kept() -> None:
    profile = career.new_profile()
    career.record_result(profile, "tutorial", 64.0, "C")
    career.record_result(profile, "tutorial", 88.0, "A")
    career.record_result(profile, "tutorial", 71.0, "B")
    record = profile.record("tutorial")
    assert (record.attempts, record.best_score, record.best_grade, record.passed) == (
        3,
        88.0,
        "A",
        True,
    )


def test_being_let_go_fails_the_scenario_whatever_the_grade() -> None:
    profile = career.new_profile()
    opened = career.record_result(profile, "tutorial", 91.0, "A", let_go_by="Sales")
    assert opened == []
    record = profile.record("tutorial")
    assert (record.attempts, record.let_go, record.passed) == (1, 1, False)
    assert record.best_score is None
    assert career.status(profile, "tutorial") == "unlocked"
    assert career.passes("A", let_go_by="Sales") is False
    assert career.passes("B") is True


def test_a_scenario_outside_the_career_is_recorded_but_opens_nothing() -> None:
    profile = career.new_profile()
    assert career.record_result(profile, "my-own", 95.0, "A") == []
    assert profile.record("my-own").passed
    assert career.unlocked(profile) == ["tutorial"]
    with pytest.raises(KeyError):
        career.status(profile, "my-own")


def test_record_result_rejects_bad_grades_and_scores() -> None:
    profile = career.new_profile()
    with pytest.raises(ValueError, match="grade"):
        career.record_result(profile, "tutorial", 80.0, "E")
    with pytest.raises(ValueError, match="finite"):
        career.record_result(profile, "tutorial", float("nan"), "B")
    assert profile.scenarios == {}


def test_progress_rows() -> None:
    profile = career.new_profile()
    career.record_result(profile, "tutorial", 77.04, "B")
    career.record_result(profile, JUNIOR[1], 50.0, "D")
    rows = career.progress(profile)
    assert [row["scenario"] for row in rows] == [name for _, name in career.career_scenarios()]
    assert rows[0] == {
        "level": "junior",
        "scenario": "tutorial",
        "title": "Tutorial: the little online shop",
        "status": "passed",
        "best_grade": "B",
        "best_score": 77.0,
        "attempts": 1,
        "let_go": 0,
    }
    assert (rows[1]["status"], rows[1]["best_grade"], rows[1]["attempts"]) == ("unlocked", "D", 1)
    assert [row["status"] for row in rows[2:]] == ["locked"] * (len(rows) - 2)
    assert rows[1]["title"] == load_scenario(JUNIOR[1]).title


# --------------------------------------------------------------------------
# The let-go rule from a real game
# --------------------------------------------------------------------------


def test_final_trust_replays_the_engine_exactly() -> None:
    scenario = load_scenario("launch-date")
    sim = Simulation(scenario, seed=101, strategy="wsjf+green", keep_records=False)
    sim.run()
    result = sim.result()
    expected = [(s.name, s.influence, s.trust) for s in sim.stakeholders.values()]
    assert career.final_trust(scenario, result) == pytest.approx(expected)


def test_always_green_reports_get_the_po_let_go_in_launch_date() -> None:
    scenario = load_scenario("launch-date")
    green = simulate(scenario, strategy="wsjf+green", seed=101, keep_records=False)
    honest = simulate(scenario, strategy="wsjf+honest", seed=101, keep_records=False)
    assert career.let_go(scenario, green) == "Director"
    assert career.let_go(scenario, honest) is None

    profile = career.new_profile()
    career.record_game(profile, scenario, green)
    assert profile.record("launch-date").let_go == 1
    assert not profile.record("launch-date").passed


def test_record_game_uses_the_score_and_grade() -> None:
    scenario = load_scenario("tutorial")
    result = simulate(scenario, strategy="wsjf", keep_records=False)
    profile = career.new_profile()
    opened = career.record_game(profile, scenario, result)
    record = profile.record("tutorial")
    assert record.best_score == pytest.approx(result.score.total)
    assert record.best_grade == result.score.grade
    assert opened == ([JUNIOR[1]] if result.score.grade in ("A", "B") else [])


# --------------------------------------------------------------------------
# The saved profile
# --------------------------------------------------------------------------


def test_the_profile_lives_in_posim_home(posim_home: Path) -> None:
    assert career.profile_dir() == posim_home
    assert career.profile_path() == posim_home / "career.json"


def test_the_default_folder_is_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("POSIM_HOME")
    assert career.profile_dir() == Path(platformdirs.user_data_dir("posim", appauthor=False))


def test_missing_profile_loads_fresh_and_writes_nothing(posim_home: Path) -> None:
    profile = career.load_profile()
    assert profile.scenarios == {} and profile.notice is None
    assert not posim_home.exists()


def test_save_and_load_round_trip(posim_home: Path) -> None:
    profile = career.new_profile()
    _pass(profile, "tutorial")
    career.record_result(profile, JUNIOR[1], 42.25, "D")
    career.record_result(profile, JUNIOR[1], 95.0, "A", let_go_by="Marketing")
    path = career.save_profile(profile)
    assert path == posim_home / "career.json"
    assert sorted(p.name for p in posim_home.iterdir()) == ["career.json"]  # no temp files
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["posim_profile"] == 1
    assert data["scenarios"][JUNIOR[1]] == {
        "attempts": 2,
        "best_score": 42.25,
        "best_grade": "D",
        "passed": False,
        "let_go": 1,
    }
    loaded = career.load_profile()
    assert loaded.to_json() == profile.to_json()
    assert loaded.notice is None
    assert career.unlocked(loaded) == ["tutorial", JUNIOR[1]]


def test_a_failed_save_leaves_the_old_profile_intact(
    posim_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = career.new_profile()
    _pass(profile, "tutorial")
    path = career.save_profile(profile)
    before = path.read_bytes()

    def broken_replace(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(career.os, "replace", broken_replace)
    _pass(profile, JUNIOR[1])
    with pytest.raises(career.ProfileError, match="No space left on device"):
        career.save_profile(profile)
    assert path.read_bytes() == before
    assert sorted(p.name for p in posim_home.iterdir()) == ["career.json"]


def test_save_writes_through_a_temp_file_in_the_same_folder(
    posim_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(source: Any, target: Any) -> None:
        calls.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(career.os, "replace", spy)
    career.save_profile(career.new_profile())
    assert len(calls) == 1
    source, target = calls[0]
    assert source.parent == target.parent == posim_home
    assert source != target


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (b"[1, 2, 3]", "'posim_profile' must be 1"),
        (b'{"scenarios": {}}', "'posim_profile' must be 1, got None"),
        (b'{"posim_profile": "1", "scenarios": {}}', "'posim_profile' must be 1"),
        (b'{"posim_profile": 1, "scenarios": []}', "'scenarios' must be an object"),
        (
            b'{"posim_profile": 1, "scenarios": {"tutorial": {"best_grade": "Z"}}}',
            "unknown grade 'Z'",
        ),
        (
            b'{"posim_profile": 1, "scenarios": {"tutorial": {"attempts": -1}}}',
            "scenarios.tutorial.attempts must be a whole number >= 0",
        ),
        (
            b'{"posim_profile": 1, "scenarios": {"tutorial": {"passed": "yes"}}}',
            "scenarios.tutorial.passed must be true or false",
        ),
    ],
)
def test_a_corrupt_profile_is_backed_up_and_replaced(
    posim_home: Path, content: bytes, reason: str
) -> None:
    posim_home.mkdir()
    path = posim_home / "career.json"
    path.write_bytes(content)
    profile = career.load_profile()
    assert profile.scenarios == {}
    assert career.unlocked(profile) == ["tutorial"]
    backups = list(posim_home.glob("career.json.corrupt-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == content
    assert not path.exists()
    assert profile.notice is not None
    assert reason in profile.notice
    assert backups[0].name in profile.notice
    assert "\n" not in profile.notice
    # The fresh profile saves over the old name; the backup stays.
    career.save_profile(profile)
    assert career.load_profile().notice is None
    assert backups[0].exists()


def test_two_corrupt_profiles_in_one_second_get_two_backups(posim_home: Path) -> None:
    posim_home.mkdir()
    path = posim_home / "career.json"
    path.write_text("one", encoding="utf-8")
    career.load_profile()
    path.write_text("two", encoding="utf-8")
    career.load_profile()
    contents = sorted(p.read_text() for p in posim_home.glob("career.json.corrupt-*"))
    assert contents == ["one", "two"]


def test_a_newer_profile_is_refused_and_left_alone(posim_home: Path) -> None:
    posim_home.mkdir()
    path = posim_home / "career.json"
    text = '{"posim_profile": 2, "scenarios": {"tutorial": {"passed": true}}}'
    path.write_text(text, encoding="utf-8")
    with pytest.raises(career.ProfileError) as raised:
        career.load_profile()
    message = str(raised.value)
    assert "newer posim" in message and "profile version 2" in message
    assert "this posim reads 1" in message
    assert path.read_text(encoding="utf-8") == text
    assert list(posim_home.glob("*.corrupt-*")) == []


def test_reset_deletes_the_profile(posim_home: Path) -> None:
    assert career.reset_profile() is False
    career.save_profile(career.new_profile())
    assert career.reset_profile() is True
    assert not (posim_home / "career.json").exists()


# --------------------------------------------------------------------------
# posim career
# --------------------------------------------------------------------------


def _posim(
    args: list[str], posim_command: list[str], home: Path
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POSIM_HOME": str(home)}
    return subprocess.run(
        [*posim_command, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_posim_career_json(posim_command: list[str], posim_home: Path) -> None:
    profile = career.new_profile()
    career.record_result(profile, "tutorial", 81.5, "B")
    career.save_profile(profile)
    done = _posim(["career", "--json"], posim_command, posim_home)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["posim_profile"] == 1
    assert document["profile"] == str(posim_home / "career.json")
    assert (document["level"], document["next"], document["passed"]) == ("junior", JUNIOR[1], 1)
    assert document["total"] == len(career.career_scenarios())
    statuses = {row["scenario"]: row["status"] for row in document["scenarios"]}
    assert statuses["tutorial"] == "passed"
    assert statuses[JUNIOR[1]] == "unlocked"
    assert statuses[MID[0]] == "locked"
    assert document["scenarios"][0]["best_grade"] == "B"
    assert done.stderr == ""


def test_posim_career_table(posim_command: list[str], posim_home: Path) -> None:
    done = _posim(["career"], posim_command, posim_home)
    assert done.returncode == 0, done.stderr
    assert "0 of 9 passed" in done.stdout
    assert "next: posim play tutorial" in done.stdout
    assert "locked" in done.stdout and "unlocked" in done.stdout


def test_posim_career_reset_needs_yes(posim_command: list[str], posim_home: Path) -> None:
    career.save_profile(career.new_profile())
    refused = _posim(["career", "--reset"], posim_command, posim_home)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "posim career: --reset deletes all career progress; add --yes to confirm"
    ]
    assert (posim_home / "career.json").exists()

    done = _posim(["career", "--reset", "--yes"], posim_command, posim_home)
    assert done.returncode == 0, done.stderr
    assert "career progress reset" in done.stdout
    assert not (posim_home / "career.json").exists()


def test_posim_career_reports_a_corrupt_profile(posim_command: list[str], posim_home: Path) -> None:
    posim_home.mkdir()
    (posim_home / "career.json").write_text("{oops", encoding="utf-8")
    done = _posim(["career", "--json"], posim_command, posim_home)
    assert done.returncode == 0
    assert json.loads(done.stdout)["next"] == "tutorial"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "moved to career.json.corrupt-" in lines[0]
    assert "Traceback" not in done.stderr


def test_posim_career_refuses_a_newer_profile(posim_command: list[str], posim_home: Path) -> None:
    posim_home.mkdir()
    (posim_home / "career.json").write_text('{"posim_profile": 9}', encoding="utf-8")
    done = _posim(["career"], posim_command, posim_home)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "profile version 9" in lines[0]
