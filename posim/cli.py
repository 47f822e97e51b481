"""The ``posim`` command line (Typer).

Thin on purpose: each command parses its options, loads the scenario, calls
the library (:mod:`posim.runs`, :mod:`posim.scenario`) and prints.  Heavy
modules are imported inside the commands so ``posim --help`` stays fast.

Every user error (a bad scenario, an unknown strategy, a bad option value)
prints one line per problem on stderr and exits with status 2, never a
traceback.  Results go to stdout; progress bars go to stderr and only when it
is a terminal.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from posim.scenario import Scenario

USAGE_ERROR = 2
"""Exit status for bad input of any kind."""

SeedOption = Annotated[
    int | None,
    typer.Option(min=0, max=2**63 - 1, help="Root seed (default: the scenario's)."),
]


def _check_jobs_option(value: int) -> int:
    """``--jobs``: at most four worker processes per core (``posim.runs.check_jobs``)."""
    from posim.runs import check_jobs

    try:
        check_jobs(value)
    except ValueError as error:
        fail([str(error)])
    return value


JobsOption = Annotated[
    int,
    typer.Option(
        min=0,
        callback=_check_jobs_option,
        help="Worker processes (0 = every core; at most 4 per core).",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document instead of the table.")
]

StartDateOption = Annotated[
    str,
    typer.Option(
        "--start-date",
        help="With --out: the date of day 0 in flow.csv (a Monday, YYYY-MM-DD).",
    ),
]


class PipeClosed(Exception):
    """Whoever read stdout went away (``posim run ... | head -1``)."""


def stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (so a write there fails with EPIPE)."""
    import select

    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # Windows: trust the BrokenPipeError
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


class _Commands(TyperGroup):
    """posim's command group: a closed stdout ends a command as :class:`PipeClosed`."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            if not stdout_closed():
                raise
            raise PipeClosed from None


app = typer.Typer(
    name="posim",
    cls=_Commands,
    help="posim: a product-owner simulator. Play a scenario, run it headless, compare strategies.",
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain Click help: Typer's Rich help formatting costs ~0.08 s of every
    # command's start-up, which no --jobs worker can share (docs/performance.md).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


# --------------------------------------------------------------------------
# Helpers shared by the commands
# --------------------------------------------------------------------------


def fail(problems: Iterable[str]) -> NoReturn:
    """Print one line per problem on stderr and exit with status 2."""
    for problem in problems:
        print(problem, file=sys.stderr)
    raise typer.Exit(USAGE_ERROR)


def load(spec: str) -> Scenario:
    """Load a scenario file or a built-in scenario, or :func:`fail` with its problems."""
    from posim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(spec)
    except ScenarioError as error:
        fail(str(problem) for problem in error.problems)
    except OSError as error:
        fail([f"{spec}: {error.strerror or error}"])


def _start_date(text: str) -> Any:
    """``--start-date``: a Monday, or :func:`fail`."""
    import datetime as dt

    from posim.flowcsv import check_start

    try:
        start = dt.date.fromisoformat(text)
        check_start(start)
    except ValueError as error:
        message = str(error) if "Monday" in str(error) else f"{text!r} is not a date (YYYY-MM-DD)"
        fail([f"--start-date: {message}"])
    return start


def print_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    from posim.runs import dumps_json

    sys.stdout.write(dumps_json(document))
    sys.stdout.flush()


def describe(scenario: Scenario) -> str:
    """One-line summary of a scenario: name, columns, members, items, days."""
    members = sum(member.count for member in scenario.team)
    items = sum(getattr(entry, "generate", 1) for entry in scenario.backlog)
    days = f"{scenario.horizon_days:g}"
    return (
        f"{scenario.display_title}, {len(scenario.workflow)} columns, {members} members, "
        f"{items} items, {days} days"
    )


# --------------------------------------------------------------------------
# Commands: one function each
# --------------------------------------------------------------------------


def _version_callback(value: bool) -> None:
    if value:
        from posim import __version__

        print(f"posim {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    context: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """posim: a product-owner simulator. Play a scenario, run it headless, compare strategies."""
    if context.invoked_subcommand is None:
        print(context.get_help())


MAX_SEED = 2**63 - 1
"""The largest root seed the command line accepts."""


def parse_play_seed(text: str | None) -> int | None:
    """``--seed`` of ``posim play``: ``None``, a whole number, or ``random`` (a new seed now).

    A bad value exits 2 with one line.
    """
    if text is None:
        return None
    if text.strip().lower() == "random":
        from posim.engine.randomness import random_seed

        return random_seed()
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        fail(
            [
                f"posim play: --seed must be a whole number from 0 to {MAX_SEED} or 'random', got {text!r}"
            ]
        )
    return value


@app.command()
def play(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A scenario file or a built-in scenario's name (default: tutorial)."),
    ] = None,
    load_file: Annotated[
        Path | None, typer.Option("--load", help="Continue a saved game (a posim save file).")
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            metavar="N|random",
            help="Root seed: a number, or 'random' for a new week's luck (default: the "
            "scenario's, so a class shares its luck). The game's save records it.",
        ),
    ] = None,
    menu: Annotated[
        bool,
        typer.Option("--menu", help="Open the title screen (new game, continue, career) instead."),
    ] = False,
) -> None:
    """Play a scenario in the terminal: you are the product owner.

    With no scenario, the built-in tutorial; `m` on the board (or --menu) opens the
    title screen: new game, continue the autosave, career.
    """
    from posim.saves import SaveError
    from posim.scenario import ScenarioError
    from posim.tui.app import build_app

    root = parse_play_seed(seed)
    try:
        if menu and scenario is None and load_file is None:
            game = build_app(None, seed=root)
        else:
            game = build_app(scenario or "tutorial", load=load_file, seed=root)
    except SaveError as error:
        fail([str(error)])
    except ScenarioError as error:
        fail(str(problem) for problem in error.problems)
    # A terminal is needed, unless a driver of its own is set (posim serve's web driver).
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and "TEXTUAL_DRIVER" not in os.environ:
        fail(["posim play needs a terminal (for headless runs use posim run or posim replay)"])
    game.run()
    raise typer.Exit(game.return_code or 0)


@app.command(short_help="Serve the game to browsers for a workshop.")
def serve(
    scenario: Annotated[
        str | None,
        typer.Argument(
            help="A scenario file or built-in scenario name (default: the title screen)."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 lets the whole room connect.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(help="The server's address as players reach it (behind a reverse proxy)."),
    ] = None,
    max_players: Annotated[
        int,
        typer.Option(min=1, max=1000, help="The most games at once; more players see 'full'."),
    ] = 40,
    room: Annotated[
        bool,
        typer.Option(
            "--room",
            help="A workshop room: named players, one scenario and seed, a trainer's page.",
        ),
    ] = False,
    seed: Annotated[
        str | None,
        typer.Option(help="With --room: the seed for everyone, or 'random' (one each)."),
    ] = None,
) -> None:
    """Serve the game to web browsers for a workshop: each tab plays its own game."""
    from posim.serve import ServeError, serve_game

    room_seed: int | str | None = None
    if seed is not None:
        if not room:
            fail(["posim serve: --seed needs --room (a room's players share the seed)"])
        if seed.strip().lower() == "random":
            room_seed = "random"
        elif seed.strip().isdigit() and int(seed) < 2**63:
            room_seed = int(seed)
        else:
            fail([f"posim serve: --seed must be a whole number or 'random', not {seed!r}"])
    if room and scenario is None:
        fail(["posim serve: --room needs a scenario: posim serve SCENARIO --room"])
    if scenario is not None:
        load(scenario)
    try:
        serve_game(
            scenario,
            host=host,
            port=port,
            public_url=public_url,
            max_players=max_players,
            room=room,
            seed=room_seed,
        )
    except ServeError as error:
        fail([f"posim serve: {error}"])


@app.command(short_help="Run a scenario headless with a scripted PO.")
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file or a built-in scenario's name.")],
    strategy: Annotated[
        str,
        typer.Option(
            help="ORDERING[+REPORTING]: fifo, value, shortest, wsjf, edf, loudest, random, cos, "
            "or path/to/file.py:ClassName; e.g. wsjf+green."
        ),
    ] = "fifo",
    reporting: Annotated[
        str,
        typer.Option(
            help="Reporting policy when the strategy names none: honest, optimistic, green."
        ),
    ] = "honest",
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=2**63 - 1,
            help="Root seed (default: the scenario's). Replication r uses a seed derived from it.",
        ),
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Number of replications.")] = 1,
    jobs: Annotated[
        int,
        typer.Option(
            min=0,
            callback=_check_jobs_option,
            help="Worker processes (0 = every core; at most 4 per core). Output is the same.",
        ),
    ] = 1,
    json_output: JsonOption = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write runs.csv, items.csv, events.jsonl, run.json and flow.csv (replication "
            "0's items with stage dates) into this folder.",
        ),
    ] = None,
    start_date: StartDateOption = "2025-01-06",
) -> None:
    """Run a scenario headless with a scripted product owner; summarise the metrics."""
    from posim import __version__
    from posim.console import print_run_table, progress_bar
    from posim.runs import RunWriter, check_run_options, run_replications

    start = _start_date(start_date)
    loaded = load(scenario)
    try:
        check_run_options(strategy, reporting, runs, jobs)
    except ValueError as error:
        fail([str(error)])
    _check_out(out, plots=False)

    options: dict[str, Any] = {
        "strategy": strategy,
        "reporting": reporting,
        "seed": seed,
        "runs": runs,
        "jobs": jobs,
    }
    with progress_bar(runs, f"{loaded.name} · {strategy}") as progress:
        if out is None:
            result = run_replications(loaded, **options, progress=progress)
        else:
            writer = RunWriter(out, loaded, runs, start)
            try:
                with writer:
                    result = run_replications(
                        loaded,
                        **options,
                        keep_records=True,
                        progress=progress,
                        on_replication=writer.add,
                    )
                    writer.finish(result, __version__)
            except KeyboardInterrupt:
                _stop_partial("run", writer.added, runs, out)
            except OSError as error:
                fail([f"{error.filename or out}: {error.strerror or error}"])

    if json_output:
        print_json(result.to_json(__version__))
    else:
        print_run_table(result)


@app.command(short_help="Check scenario files, one line per problem.")
def validate(
    files: Annotated[
        list[str], typer.Argument(help="Scenario files (or built-in names) to check.")
    ],
) -> None:
    """Check scenario files: every problem of every file, one line each (exit 2 if any)."""
    from posim.scenario import ScenarioError, load_scenario

    problems: list[str] = []
    for spec in files:
        try:
            scenario = load_scenario(spec)
        except ScenarioError as error:
            problems.extend(str(problem) for problem in error.problems)
        except OSError as error:
            problems.append(f"{spec}: {error.strerror or error}")
        else:
            print(f"{spec}: ok — {describe(scenario)}")
    if problems:
        fail(problems)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    from posim.scenario import scenario_json_schema

    print_json(scenario_json_schema())


@app.command()
def scenarios(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of name/title/level/description.")
    ] = False,
) -> None:
    """List the built-in scenarios."""
    from posim.scenario import builtin_scenarios

    entries = [
        {key: entry[key] for key in ("name", "title", "level", "description")}
        for entry in builtin_scenarios()
    ]
    if json_output:
        print_json(entries)
        return
    from posim.console import print_scenarios_table

    print_scenarios_table(entries)


@app.command(short_help="Replay a saved game headless.")
def replay(
    save_file: Annotated[Path, typer.Argument(help="A posim save file (the game autosaves).")],
    json_output: JsonOption = False,
    debrief: Annotated[
        bool,
        typer.Option(
            "--debrief",
            help="Play the rest of the game with no further commands and print the debrief: "
            "same luck, over other seeds, lessons.",
        ),
    ] = False,
    runs: Annotated[
        int, typer.Option(min=2, max=10_000, help="With --debrief: other seeds per ordering.")
    ] = 30,
    jobs: JobsOption = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="With --debrief: also write debrief.json and debrief.md into DIR."
        ),
    ] = None,
) -> None:
    """Replay a saved game headless and print the result the game showed.

    With --debrief, play the rest of the game to the horizon with no further
    commands (as the game's auto-commit would) and print the debrief the game
    shows; --out DIR writes the trainer's copy (JSON and Markdown).
    """
    from posim import __version__
    from posim.saves import SaveError, replay_document
    from posim.saves import replay as replay_save

    if out is not None and not debrief:
        fail(["posim replay: --out needs --debrief"])
    if debrief:
        _print_debrief(save_file, runs, jobs, out, json_output, __version__)
        return
    try:
        save, result = replay_save(save_file)
    except SaveError as error:
        fail([str(error)])
    document = replay_document(save, result, __version__)
    if json_output:
        print_json(document)
        return
    from posim.console import print_replay_table

    print_replay_table(save, result)


def _print_debrief(
    save_file: Path, runs: int, jobs: int, out: Path | None, json_output: bool, version: str
) -> None:
    """Replay a save to the horizon, debrief it, print it (and write the trainer's copy)."""
    from posim import debrief as debriefing
    from posim.console import print_debrief, progress_bar
    from posim.saves import SaveError, read_save, restore, scenario_of

    where = str(save_file)
    try:
        save = read_save(where)
        scenario = scenario_of(save, where)
        sim = restore(save, scenario, where)
    except SaveError as error:
        fail([str(error)])
    _check_out(out, plots=False)
    sim.run()  # the rest of the game, with no further commands
    result = sim.result()
    total = debriefing.simulations(scenario, runs)
    with progress_bar(total, "debrief: same luck and other seeds") as advance:
        shown = 0

        def progress(done: int, _total: int) -> None:
            nonlocal shown
            if advance is not None:
                advance(done - shown)
            shown = done

        try:
            document = debriefing.build(
                scenario, result, runs=runs, jobs=jobs, version=version, progress=progress
            )
        except debriefing.DebriefError as error:
            fail([str(error)])
    if out is not None:
        try:
            written = debriefing.write_files(document, out, scenario.display_title)
        except OSError as error:
            fail([f"{out}: cannot write: {error.strerror or error}"])
        print(f"wrote {', '.join(str(path) for path in written)}", file=sys.stderr)
    if json_output:
        print_json(document)
        return
    print_debrief(document)


@app.command(short_help="Show or reset career progress.")
def career(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete all career progress (needs --yes).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --reset.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print progress as one JSON document.")
    ] = False,
) -> None:
    """Show career progress from junior to senior product owner, or reset it."""
    from posim import career as career_mode

    path = career_mode.profile_path()
    try:
        if reset:
            if not yes:
                fail(["posim career: --reset deletes all career progress; add --yes to confirm"])
            existed = career_mode.reset_profile(path)
            print(f"career progress reset ({path})" if existed else f"no career progress ({path})")
            return
        profile = career_mode.load_profile(path)
    except career_mode.ProfileError as error:
        fail([str(error)])
    if profile.notice:
        print(profile.notice, file=sys.stderr)
    document = career_mode.progress_document(profile, path)
    if json_output:
        print_json(document)
        return
    from posim.console import print_career_table

    print_career_table(document)


@app.command("new-scenario", short_help="Write a commented starting scenario file.")
def new_scenario(
    name: Annotated[
        str, typer.Argument(help="Scenario name; writes NAME.yaml (never overwrites).")
    ],
) -> None:
    """Write a commented starting scenario file NAME.yaml that validates as it is."""
    from posim.scenario_docs import write_starter

    try:
        path = write_starter(name)
    except FileExistsError as error:
        fail([f"{error.filename or name}: already exists; not overwriting it"])
    except ValueError as error:
        fail([str(error)])
    except OSError as error:
        fail([f"{error.filename or name}: {error.strerror or error}"])
    print(f"wrote {path}: edit it, then `posim validate {path}`")


# --------------------------------------------------------------------------
# compare and sweep (the library is posim.comparison; these only parse and print)
# --------------------------------------------------------------------------

INTERRUPTED = 130
"""Exit status after Ctrl+C."""

SWEEP_TABLE_METRICS = (
    "items_done",
    "lead_time_mean",
    "cycle_time_mean",
    "wip_mean",
    "net_value",
    "score",
)
"""Metrics ``posim sweep`` shows by default (``--metric`` picks others; JSON has all)."""

ExecutorOption = Annotated[
    str,
    typer.Option(
        help="Where replications run: process (local cores), serial (this process) or dask. "
        "Output is the same for all."
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="With --executor dask: a running cluster's scheduler (tcp://host:port)."),
]
MetricOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metric", help="Show (and plot) only this metric; repeat for more. JSON keeps all."
    ),
]


def _check_metrics(metrics: list[str] | None, default: Sequence[str]) -> list[str]:
    from posim.engine import METRIC_NAMES

    if not metrics:
        return list(default)
    unknown = [name for name in metrics if name not in METRIC_NAMES]
    if unknown:
        fail(
            f"--metric {name}: unknown metric; use one of {', '.join(METRIC_NAMES)}"
            for name in unknown
        )
    return list(dict.fromkeys(metrics))


def _check_out(out: Path | None, plots: bool) -> None:
    """Refuse an ``--out`` that is a file or cannot be written, before any work is done.

    The folder is created (as the results would create it) and a probe file is
    written and removed in it, so every reason it cannot be written shows up now.
    """
    if out is None:
        return
    if out.exists() and not out.is_dir():
        fail([f"{out}: --out must be a folder, not a file"])
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".posim-probe-"):
            pass
    except OSError as error:
        fail([f"{out}: --out cannot be written: {error.strerror or error}"])
    if plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            from posim.plots import INSTALL_HINT

            fail([f"--out: {INSTALL_HINT} (or add --no-plots for the CSV and JSON only)"])


def _stop_partial(command: str, done: int, requested: int, out: Path | None) -> NoReturn:
    if done and out is not None:
        print(
            f"posim {command}: interrupted: kept {done} of {requested} replications in {out} "
            "(marked partial)",
            file=sys.stderr,
        )
    else:
        print(f"posim {command}: interrupted", file=sys.stderr)
    raise SystemExit(INTERRUPTED)  # not typer.Exit: main() would say "interrupted" again


@app.command(short_help="Compare strategies on the same random numbers.")
def compare(
    scenario: Annotated[str, typer.Argument(help="A scenario file or a built-in scenario's name.")],
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            help="ORDERING[+REPORTING] (fifo, wsjf+green, path/to/file.py:Class, "
            "package.module:Class); repeat for each. The first is the baseline. "
            "Default: every built-in ordering, fifo first."
        ),
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Replications per strategy.")] = 100,
    seed: SeedOption = None,
    jobs: JobsOption = 0,
    executor: ExecutorOption = "process",
    scheduler: SchedulerOption = None,
    reporting: Annotated[
        str, typer.Option(help="Reporting policy of strategies that name none.")
    ] = "honest",
    json_output: JsonOption = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write runs.csv, compare.json, flow-<strategy>.csv and SVG plots into this folder."
        ),
    ] = None,
    oracle: Annotated[
        bool,
        typer.Option(
            "--oracle",
            help="Also find the best order by exhaustive search (at most 8 items, all known "
            "at day 0) and each strategy's regret.",
        ),
    ] = False,
    metric: MetricOption = None,
    plots: Annotated[bool, typer.Option(help="With --out, also draw the plots.")] = True,
    start_date: StartDateOption = "2025-01-06",
) -> None:
    """Compare strategies on the same random numbers: summaries and paired differences."""
    from posim import __version__
    from posim.comparison import (
        add_regret,
        check_oracle,
        check_strategies,
        find_best_order,
        write_comparison,
    )
    from posim.comparison import compare as run_compare
    from posim.console import print_compare_table, progress_bar
    from posim.engine import METRIC_NAMES, ORDERINGS
    from posim.executors import check_executor
    from posim.plots import PlotsUnavailable

    start = _start_date(start_date)
    loaded = load(scenario)
    strategies = list(strategy) if strategy else list(ORDERINGS)
    shown = _check_metrics(metric, METRIC_NAMES)
    try:
        check_executor(executor, jobs, scheduler)
        check_strategies(strategies, reporting)
        if oracle:
            check_oracle(loaded, runs)
    except ValueError as error:
        fail(str(error).splitlines())
    _check_out(out, plots)

    options: dict[str, Any] = {
        "runs": runs,
        "seed": seed,
        "jobs": jobs,
        "executor": executor,
        "scheduler": scheduler,
        "reporting": reporting,
    }
    try:
        with progress_bar(runs * len(strategies), f"{loaded.name} · compare") as progress:
            result = run_compare(
                loaded,
                strategies,
                **options,
                keep_items=out is not None,
                progress=progress,
                interruptible=True,
            )
        if oracle and not result.partial:
            with progress_bar(check_oracle(loaded, runs), f"{loaded.name} · oracle") as progress:
                options.pop("runs")
                best = find_best_order(loaded, runs, **options, progress=progress)
            result = add_regret(result, best)
    except ValueError as error:  # CompareError, or executor problems found while starting
        fail(str(error).splitlines())
    if result.partial and result.runs == 0:
        _stop_partial("compare", 0, runs, None)
    if out is not None:
        try:
            write_comparison(
                result, out, __version__, loaded, plots=plots, metrics=shown, start_date=start
            )
        except PlotsUnavailable as error:
            fail([f"--out: {error}"])
        except OSError as error:
            fail([f"{error.filename or out}: {error.strerror or error}"])
    if result.partial:
        _stop_partial("compare", result.runs, runs, out)
    if json_output:
        print_json(result.to_json(__version__))
    else:
        print_compare_table(result, shown)


@app.command(short_help="Sensitivity of every metric to one parameter.")
def sweep(
    scenario: Annotated[str, typer.Argument(help="A scenario file or a built-in scenario's name.")],
    setting: Annotated[
        str,
        typer.Option(
            "--set",
            help="PATH=VALUES: the parameter and its values, as a..b (a..b:step) or a comma "
            "list, e.g. workflow.development.wip=1..10, team.Dev.count=1..5, "
            "stakeholders.Sales.requests.every.mean=2,4,8, ready_wip=none,2,4.",
        ),
    ],
    strategy: Annotated[str, typer.Option(help="ORDERING[+REPORTING] to run.")] = "fifo",
    runs: Annotated[int, typer.Option(min=1, help="Replications per value.")] = 100,
    seed: SeedOption = None,
    jobs: JobsOption = 0,
    executor: ExecutorOption = "process",
    scheduler: SchedulerOption = None,
    reporting: Annotated[
        str, typer.Option(help="Reporting policy when the strategy names none.")
    ] = "honest",
    json_output: JsonOption = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write runs.csv, sweep.json and sweep.svg (every metric, or those of --metric)."
        ),
    ] = None,
    metric: MetricOption = None,
    plots: Annotated[bool, typer.Option(help="With --out, also draw the plot.")] = True,
) -> None:
    """Sensitivity of every metric to one scenario parameter (e.g. a WIP limit)."""
    from posim import __version__
    from posim.comparison import parse_setting, write_sweep
    from posim.comparison import sweep as run_sweep
    from posim.console import print_sweep_table, progress_bar
    from posim.engine import METRIC_NAMES
    from posim.executors import check_executor
    from posim.plots import PlotsUnavailable

    loaded = load(scenario)
    shown = _check_metrics(metric, SWEEP_TABLE_METRICS)
    plotted = _check_metrics(metric, METRIC_NAMES)
    try:
        check_executor(executor, jobs, scheduler)
        parsed = parse_setting(setting)
    except ValueError as error:
        fail(str(error).splitlines())
    _check_out(out, plots)
    try:
        with progress_bar(runs * len(parsed.values), f"{loaded.name} · sweep") as progress:
            result = run_sweep(
                loaded,
                parsed,
                strategy,
                runs=runs,
                seed=seed,
                jobs=jobs,
                executor=executor,
                scheduler=scheduler,
                reporting=reporting,
                progress=progress,
                interruptible=True,
            )
    except ValueError as error:  # CompareError, or executor problems found while starting
        fail(str(error).splitlines())
    if result.partial and result.runs == 0:
        _stop_partial("sweep", 0, runs, None)
    if out is not None:
        try:
            write_sweep(result, out, __version__, plots=plots, metrics=plotted)
        except PlotsUnavailable as error:
            fail([f"--out: {error}"])
        except OSError as error:
            fail([f"{error.filename or out}: {error.strerror or error}"])
    if result.partial:
        _stop_partial("sweep", result.runs, runs, out)
    if json_output:
        print_json(result.to_json(__version__))
    else:
        print_sweep_table(result, shown)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Your own team's data: forecast and calibrate (DESIGN section 9)
# --------------------------------------------------------------------------


def _read_team_history(
    file: Path, done_column: str | None = None, date_format: str | None = None
) -> Any:
    """Read a tracker export, or :func:`fail` with one line per problem."""
    from posim.history import HistoryError, read_history

    try:
        return read_history(file, done_column=done_column, date_format=date_format)
    except HistoryError as error:
        fail(error.problems)


def _option_date(option: str, text: str | None) -> Any:
    """A ``YYYY-MM-DD`` option value (``None`` stays ``None``), or :func:`fail`."""
    from posim.history import parse_date

    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as error:
        fail([f"{option}: {error}"])


@app.command(short_help="Forecast from your team's history: when, and how many.")
def forecast(
    file: Annotated[Path, typer.Argument(help="A CSV of closed dates or stage dates.")],
    when: Annotated[
        int | None, typer.Option("--when", metavar="N", help="When will N more items be done?")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="With --when: the chance of finishing by this date."),
    ] = None,
    days: Annotated[
        int | None, typer.Option(metavar="D", help="How many items in the next D days?")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="How many items from the start up to this date?"),
    ] = None,
    history: Annotated[
        int | None,
        typer.Option(
            "--history",
            metavar="DAYS",
            help="Sample the last DAYS days ending at the last done date (default: all).",
        ),
    ] = None,
    from_date: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Day 1 is the day after this date (default: the last done).",
        ),
    ] = None,
    working_days: Annotated[
        bool,
        typer.Option(
            "--working-days", help="Count Monday-Friday only; weekend dones count on Monday."
        ),
    ] = False,
    trials: Annotated[int, typer.Option(min=1, max=1_000_000, help="Monte Carlo trials.")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Seed of the trials.")] = 1,
    done_column: Annotated[
        str | None, typer.Option(help="The done-date column of a closed-dates file.")
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(help="strptime format of every date, e.g. '%d/%m/%Y' (default: detected)."),
    ] = None,
    json_output: JsonOption = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write forecast.json and SVG charts into this folder."),
    ] = None,
) -> None:
    """Forecast from your team's history: when will N items be done, how many by a date."""
    from posim import __version__
    from posim.forecasting import ForecastError, format_report, write_charts
    from posim.forecasting import forecast as run_forecast
    from posim.runs import dumps_json

    _check_out(out, plots=True)
    dates = {
        "by": _option_date("--by", by),
        "until": _option_date("--until", until),
        "start": _option_date("--from", from_date),
    }
    loaded = _read_team_history(file, done_column, date_format)
    try:
        report = run_forecast(
            loaded,
            when=when,
            days=days,
            history_days=history,
            working_days=working_days,
            trials=trials,
            seed=seed,
            **dates,
        )
    except ForecastError as error:
        fail([str(error)])
    document = report.to_json(__version__)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "forecast.json").write_text(dumps_json(document), encoding="utf-8")
            write_charts(report, loaded, out)
        except OSError as error:
            fail([f"{error.filename or out}: {error.strerror or error}"])
    if json_output:
        print_json(document)
    else:
        typer.echo(format_report(report))


@app.command(short_help="Fit a scenario to your team's stage dates, and backtest it.")
def calibrate(
    file: Annotated[Path, typer.Argument(help="A CSV of stage dates (e.g. flow.csv).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The scenario file to write (YAML).")
    ],
    history: Annotated[
        int | None,
        typer.Option(
            "--history",
            metavar="DAYS",
            help="Fit the last DAYS days ending at the last done date (default: all).",
        ),
    ] = None,
    calendar_days: Annotated[
        bool,
        typer.Option(
            "--calendar-days", help="Count durations in calendar days (default: Monday-Friday)."
        ),
    ] = False,
    runs: Annotated[int, typer.Option(min=1, max=200, help="Backtest replications.")] = 10,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Backtest seed.")] = 1,
    date_format: Annotated[
        str | None,
        typer.Option(help="strptime format of every date, e.g. '%d/%m/%Y' (default: detected)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Fit a scenario that behaves like your team, write it, and print the backtest."""
    from posim import __version__
    from posim.calibration import CalibrationError, backtest, fit, format_backtest

    loaded = _read_team_history(file, date_format=date_format)
    try:
        fitted = fit(loaded, history_days=history, working_days=not calendar_days)
        result = backtest(fitted, runs=runs, seed=seed)
    except CalibrationError as error:
        fail([str(error)])
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(fitted.yaml, encoding="utf-8")
    except OSError as error:
        fail([f"{error.filename or output}: {error.strerror or error}"])
    if json_output:
        print_json({"posim": __version__, "scenario": str(output), **result.to_json()})
    else:
        typer.echo(f"Wrote {output}\n")
        typer.echo(format_backtest(result))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``posim`` script and ``python -m posim``.

    Usage errors are printed as one line (``posim run: Invalid value for
    '--runs': ...``) with status 2 instead of Typer's framed message.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:  # started with stdout closed (`posim run ... >&-`)
        print("posim: cannot write to standard output: it is closed", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    try:
        status = app(args=args, prog_name="posim", standalone_mode=False)
    except PipeClosed:
        _end_with_closed_stdout()
    except SystemExit as stop:
        # Click ends with status 1 when help text meets a closed pipe.
        if stop.code == 1 and stdout_closed():
            _end_with_closed_stdout()
        raise
    except typer.TyperException as error:
        context = getattr(error, "ctx", None)
        where = context.command_path if context is not None else "posim"
        print(f"{where}: {error.format_message()}", file=sys.stderr)
        sys.exit(getattr(error, "exit_code", USAGE_ERROR))
    except (typer.Abort, KeyboardInterrupt):
        print("posim: interrupted", file=sys.stderr)
        sys.exit(130)
    except OSError as error:
        # A full disk or a device that takes nothing (stdout on /dev/full, an --out
        # on a full file system): one line, status 2, no traceback.
        if error.errno not in _CANNOT_WRITE:
            raise
        _end_cannot_write(error)
    except Exception as error:
        # A user strategy that fails while running (in this process or in a
        # worker) is the user's input: one line, status 2, no traceback.
        from posim.engine.strategies import StrategyError

        if not isinstance(error, StrategyError):
            raise
        print(f"posim: {error}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    if status == 130:  # Typer turned Ctrl-C into status 130
        print("posim: interrupted", file=sys.stderr)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _end_with_closed_stdout()
    except OSError as error:
        if error.errno not in _CANNOT_WRITE:
            raise
        _end_cannot_write(error)
    sys.exit(status if isinstance(status, int) else 0)


_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG})
"""Write errors that are the machine's state, not posim's fault: told in one line."""


def _end_cannot_write(error: OSError) -> NoReturn:
    """One line on stderr and status 2 for a write that the system refused."""
    # Nothing more reaches the refused stream: os._exit below skips its flush.
    where = f" {error.filename}" if error.filename else ""
    print(f"posim: cannot write{where}: {error.strerror or error}", file=sys.stderr)
    sys.stderr.flush()
    os._exit(USAGE_ERROR)  # skip interpreter-exit flushes of the refused stream


def _end_with_closed_stdout() -> NoReturn:
    """Stop quietly, status 0, when stdout's reader has gone (``posim ... | head -1``).

    As ``git log | head`` does from the shell's point of view: the reader took
    what it wanted.  Whatever is still buffered for stdout goes to the null
    device, so Python's exit does not complain about the pipe either.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        pass
    sys.exit(0)
