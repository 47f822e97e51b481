"""Import hygiene: the headless API never loads the game's libraries, and layers point one way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import posim

REPO_ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    """The names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


def test_headless_api_loads_neither_textual_nor_rich() -> None:
    modules = _modules_after(
        "import posim, posim.engine, posim.runs, posim.scenario, posim.stats\n"
        "for name in posim.__all__:\n"
        "    getattr(posim, name)\n"
        "scenario = posim.load_scenario('tutorial')\n"
        "posim.simulate(scenario, strategy='wsjf', seed=1)\n"
        "posim.run_replications(scenario, 'fifo', runs=2)\n"
        "posim.compare(scenario, ['fifo', 'wsjf'], runs=2, jobs=1)"
    )
    assert "posim.engine" in modules and "posim.runs" in modules  # the code did run
    assert not {name for name in modules if name.split(".")[0] in {"textual", "rich"}}


def test_import_posim_is_lazy() -> None:
    modules = _modules_after("import posim")
    assert "posim" in modules
    assert not {"posim.engine", "posim.scenario", "simpy", "pydantic", "numpy"} & modules


def test_cli_module_defers_the_engine() -> None:
    """``posim --help`` stays fast: importing the CLI loads no engine, scenario or Rich."""
    modules = _modules_after("import posim.cli")
    assert not {"posim.engine", "posim.runs", "posim.scenario", "simpy"} & modules


def test_public_names_resolve() -> None:
    assert sorted(posim.__all__) == sorted(set(posim.__all__))
    for name in posim.__all__:
        assert getattr(posim, name) is not None, name
    from posim.engine import Result, simulate
    from posim.scenario import Scenario, load_scenario

    assert posim.simulate is simulate
    assert posim.Result is Result
    assert posim.load_scenario is load_scenario
    assert posim.Scenario is Scenario
    from posim.comparison import Comparison

    assert posim.Comparison is Comparison
    assert isinstance(posim.compare(posim.load_scenario("tutorial"), ["fifo"], runs=1), Comparison)
    assert isinstance(posim.__version__, str) and posim.__version__ != "0+unknown"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        posim.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("posim.no_such_name did not raise AttributeError")


def test_import_linter_contract_holds() -> None:
    """The layers cli -> tui -> runs -> engine -> scenario (pyproject.toml) are respected."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    completed = subprocess.run(
        [str(lint_imports), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " 0 broken" in completed.stdout, completed.stdout


def test_the_import_contracts_name_every_module() -> None:
    """Every module and package directly under ``posim/`` sits in an import-linter contract."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    named: set[str] = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        for layer in contract.get("layers", []):
            named.update(part.strip() for part in layer.replace("|", ":").split(":"))
        named.update(contract.get("source_modules", []))
    package = root / "posim"
    modules = {f"posim.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {f"posim.{p.parent.name}" for p in package.glob("*/__init__.py")}
    assert modules - named == set()
