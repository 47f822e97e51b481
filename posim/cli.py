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

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from posim.runs import RunResult
    from posim.scenario import Scenario

USAGE_ERROR = 2
"""Exit status for bad input of any kind."""

app = typer.Typer(
    name="posim",
    help="posim: a product-owner simulator. Play a scenario, run it headless, compare strategies.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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


def print_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    from posim.runs import dumps_json

    sys.stdout.write(dumps_json(document))
    sys.stdout.flush()


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr when stderr is a terminal; ``None`` otherwise.

    Yields a callback taking the number of steps just finished.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda steps: bar.advance(task, steps)


def format_number(value: float | None) -> str:
    """A metric value for a table: ``—`` for none, fewer decimals for big numbers."""
    if value is None:
        return "—"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def describe(scenario: Scenario) -> str:
    """One-line summary of a scenario: name, columns, members, items, days."""
    members = sum(member.count for member in scenario.team)
    items = sum(getattr(entry, "generate", 1) for entry in scenario.backlog)
    days = f"{scenario.horizon_days:g}"
    return (
        f"{scenario.display_title}, {len(scenario.workflow)} columns, {members} members, "
        f"{items} items, {days} days"
    )


def print_run_table(result: RunResult) -> None:
    """The readable table of ``posim run``: one row per metric."""
    from rich.console import Console
    from rich.table import Table

    runs = len(result.runs)
    title = (
        f"{result.scenario} · {result.strategy}+{result.reporting} · seed {result.seed} · "
        f"{runs} run{'s' if runs != 1 else ''}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for heading in ("mean", "ci95", "p50", "p85"):
        table.add_column(heading, justify="right")
    for metric, summary in result.summary.items():
        ci95 = summary["ci95"]
        interval = "—" if ci95 is None else f"{format_number(ci95[0])} – {format_number(ci95[1])}"
        table.add_row(
            metric,
            format_number(summary["mean"]),
            interval,
            format_number(summary["p50"]),
            format_number(summary["p85"]),
        )
    Console().print(table)


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
        int | None, typer.Option(min=0, max=2**63 - 1, help="Root seed (default: the scenario's).")
    ] = None,
) -> None:
    """Play a scenario in the terminal: you are the product owner.

    With no scenario, the title screen (its first entry plays the tutorial).
    """
    from posim.saves import SaveError
    from posim.scenario import ScenarioError
    from posim.tui.app import build_app

    try:
        game = build_app(scenario, load=load_file, seed=seed)
    except SaveError as error:
        fail([str(error)])
    except ScenarioError as error:
        fail(str(problem) for problem in error.problems)
    game.run()
    raise typer.Exit(game.return_code or 0)


@app.command()
def serve(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A scenario file or built-in scenario name (default: title screen)."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 lets the whole room connect.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(help="The server's address as players reach it (behind a reverse proxy)."),
    ] = None,
) -> None:
    """Serve the game to web browsers for a workshop: each tab plays its own game."""
    from posim.serve import ServeError, serve_game

    if scenario is not None:
        load(scenario)
    try:
        serve_game(scenario, host=host, port=port, public_url=public_url)
    except ServeError as error:
        fail([f"posim serve: {error}"])


@app.command()
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
        int, typer.Option(min=0, help="Worker processes (0 = every core). Output is the same.")
    ] = 1,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the table.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write runs.csv, items.csv, events.jsonl and run.json into this folder.",
        ),
    ] = None,
) -> None:
    """Run a scenario headless with a scripted product owner; summarise the metrics."""
    from posim import __version__
    from posim.runs import RunWriter, check_run_options, run_replications

    loaded = load(scenario)
    try:
        check_run_options(strategy, reporting, runs, jobs)
    except ValueError as error:
        fail([str(error)])
    if out is not None and out.exists() and not out.is_dir():
        fail([f"{out}: --out must be a folder, not a file"])

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
            try:
                with RunWriter(out, loaded) as writer:
                    result = run_replications(
                        loaded,
                        **options,
                        keep_records=True,
                        progress=progress,
                        on_replication=writer.add,
                    )
                    writer.finish(result, __version__)
            except OSError as error:
                fail([f"{error.filename or out}: {error.strerror or error}"])

    if json_output:
        print_json(result.to_json(__version__))
    else:
        print_run_table(result)


@app.command()
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
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "level", "title", "description")
    for entry in entries:
        table.add_row(entry["name"], entry["level"], entry["title"], entry["description"])
    Console().print(table)


@app.command()
def replay(
    save_file: Annotated[Path, typer.Argument(help="A posim save file (the game autosaves).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the table.")
    ] = False,
) -> None:
    """Replay a saved game headless and print the result the game showed."""
    from posim import __version__
    from posim.saves import SaveError, replay_document
    from posim.saves import replay as replay_save

    try:
        save, result = replay_save(save_file)
    except SaveError as error:
        fail([str(error)])
    document = replay_document(save, result, __version__)
    if json_output:
        print_json(document)
        return
    from rich.console import Console
    from rich.table import Table

    title = (
        f"{result.scenario} · seed {result.seed} · day {save.day:g} of {result.horizon:g} · "
        f"{len(save.commands)} commands"
    )
    table = Table("metric", "value", title=title, title_justify="left")
    for metric, value in result.metrics.items():
        table.add_row(metric, format_number(value))
    console = Console()
    console.print(table)
    for line in result.score.explain():
        console.print(line, highlight=False)


@app.command()
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
    from rich.console import Console
    from rich.table import Table

    title = f"career: {document['level']} · {document['passed']} of {document['total']} passed"
    table = Table("level", "scenario", "title", "status", "best", title=title, title_justify="left")
    for row in document["scenarios"]:
        best = "—" if row["best_grade"] is None else f"{row['best_grade']} ({row['best_score']:g})"
        table.add_row(row["level"], row["scenario"], row["title"], row["status"], best)
    console = Console()
    console.print(table)
    if document["next"] is not None:
        console.print(f"next: posim play {document['next']}", highlight=False)


@app.command("new-scenario")
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
# Entry point
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``posim`` script and ``python -m posim``.

    Usage errors are printed as one line (``posim run: Invalid value for
    '--runs': ...``) with status 2 instead of Typer's framed message.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = app(args=args, prog_name="posim", standalone_mode=False)
    except typer.TyperException as error:
        context = getattr(error, "ctx", None)
        where = context.command_path if context is not None else "posim"
        print(f"{where}: {error.format_message()}", file=sys.stderr)
        sys.exit(getattr(error, "exit_code", USAGE_ERROR))
    except (typer.Abort, KeyboardInterrupt):
        print("posim: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(status if isinstance(status, int) else 0)
