"""posim's console output: Rich tables of results and progress bars.

Imported by :mod:`posim.cli` only when a command prints a table or a bar,
and Rich itself only inside the functions, so ``posim --help`` and piped
``--json`` runs never load Rich.  Every string that comes from a scenario or
from the command line (names, titles, strategies) goes into a table as a
Rich ``Text`` (:func:`plain`), never as markup: ``[bold]`` or ``[/]`` in a
name prints as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posim.runs import RunResult


def stdout_console(**options: Any) -> Any:
    """A Rich console on stdout for result tables.

    A closed stdout (``posim run | head -1``) raises :class:`BrokenPipeError`,
    which :func:`posim.cli.main` turns into a quiet exit (Rich's own handling
    would end the process with status 1).
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(**options)


def plain(text: object) -> Any:
    """``text`` as a Rich ``Text``: printed as is, never read as markup (``[bold]`` in a name)."""
    from rich.text import Text

    return Text(str(text))


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


def print_run_table(result: RunResult) -> None:
    """The readable table of ``posim run``: one row per metric."""
    from rich.table import Table

    runs = len(result.runs)
    title = (
        f"{result.scenario} · {result.strategy}+{result.reporting} · seed {result.seed} · "
        f"{runs} run{'s' if runs != 1 else ''}"
    )
    table = Table(title=plain(title), title_justify="left")
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
    console = stdout_console()
    console.print(table)
    if runs == 1 and result.runs[0].score:
        score = result.runs[0].score
        breakdown = Table(
            title=f"score {format_number(score['total'])} · grade {score['grade']}",
            title_justify="left",
        )
        for heading in ("term", "weight", "points", "why"):
            breakdown.add_column(heading, justify="left" if heading in ("term", "why") else "right")
        for term in score["terms"]:
            breakdown.add_row(
                plain(term["name"]),
                f"{term['weight']:.0%}",
                f"{term['points']:.1f}",
                plain(term["explanation"]),
            )
        console.print(breakdown)
    elif runs > 1:
        grades = ", ".join(f"{grade} {count}" for grade, count in result.grades().items())
        console.print(f"grades over {runs} runs: {grades}")


def print_scenarios_table(entries: Sequence[dict[str, Any]]) -> None:
    """The readable table of ``posim scenarios``."""
    from rich.table import Table

    table = Table("name", "level", "title", "description")
    for entry in entries:
        table.add_row(*(plain(entry[key]) for key in ("name", "level", "title", "description")))
    stdout_console().print(table)


def print_replay_table(save: Any, result: Any) -> None:
    """The readable table of ``posim replay``: the metrics, then the score explained."""
    from rich.table import Table

    title = (
        f"{result.scenario} · seed {result.seed} · day {save.day:g} of {result.horizon:g} · "
        f"{len(save.commands)} commands"
    )
    # The title on a line of its own: as the table's title it wrapped mid-phrase
    # at the width of the two narrow columns.
    table = Table("metric", "value")
    for metric, value in result.metrics.items():
        table.add_row(metric, format_number(value))
    console = stdout_console()
    console.print(title, highlight=False, markup=False, soft_wrap=True)
    console.print(table)
    for line in result.score.explain():
        console.print(line, highlight=False, markup=False)


def print_debrief(document: dict[str, Any]) -> None:
    """The readable debrief of ``posim replay --debrief`` (tables from :mod:`posim.debrief`)."""
    from posim.debrief import rich_tables

    console = stdout_console()
    for renderable in rich_tables(document):
        console.print(renderable, highlight=False, markup=False)


def print_career_table(document: dict[str, Any]) -> None:
    """The readable table of ``posim career``, and the next scenario to play."""
    from rich.table import Table

    title = f"career: {document['level']} · {document['passed']} of {document['total']} passed"
    table = Table("level", "scenario", "title", "status", "best", title=title, title_justify="left")
    for row in document["scenarios"]:
        best = "—" if row["best_grade"] is None else f"{row['best_grade']} ({row['best_score']:g})"
        table.add_row(
            *(plain(row[key]) for key in ("level", "scenario", "title", "status")), plain(best)
        )
    console = stdout_console()
    console.print(table)
    if document["next"] is not None:
        console.print(f"next: posim play {document['next']}", highlight=False, markup=False)


def _print_wide(*renderables: Any) -> None:
    """Print result tables; when stdout is not a terminal, as wide as they need (no wrapping)."""

    if sys.stdout.isatty():
        console = stdout_console()
    else:
        probe = stdout_console(width=1000)
        width = max([80, *(probe.measure(item).maximum for item in renderables)])
        console = stdout_console(width=width)
    for renderable in renderables:
        console.print(renderable)


def _interval(ci95: Sequence[float] | None) -> str:
    if ci95 is None:
        return "—"
    return f"{format_number(ci95[0])} – {format_number(ci95[1])}"


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    text = format_number(value)
    return text if text.startswith("-") else f"+{text}"


def print_compare_table(result: Any, metrics: Sequence[str]) -> None:
    """The readable table of ``posim compare``: per metric, one row per strategy.

    Differences against the baseline whose interval excludes zero are marked
    with ``*`` (and shown in bold).
    """
    from rich.table import Table

    runs = result.runs
    title = (
        f"{result.scenario} · {runs} run{'s' if runs != 1 else ''} on common random numbers · "
        f"seed {result.seed} · baseline {result.baseline}"
    )
    table = Table(title=plain(title), title_justify="left")
    for heading, justify in (
        ("metric", "left"),
        ("strategy", "left"),
        ("mean", "right"),
        ("95% CI", "right"),
        ("p50", "right"),
        ("p85", "right"),
        ("Δ vs baseline", "right"),
        ("Δ CI", "right"),
    ):
        longest = max(map(len, result.strategies)) if heading == "strategy" else None
        table.add_column(heading, justify=justify, min_width=longest)  # type: ignore[arg-type]
    empty = []
    for metric in metrics:
        if all(result.summary[name][metric]["mean"] is None for name in result.strategies):
            empty.append(metric)
            continue
        if table.row_count:
            table.add_section()
        for position, name in enumerate(result.strategies):
            summary = result.summary[name][metric]
            if name == result.baseline:
                delta, delta_ci, style = "baseline", "", None
            else:
                paired = result.paired[name][metric]
                marker = "*" if paired["significant"] else ""
                delta = _signed(paired["mean_diff"]) + marker
                delta_ci = _interval(paired["ci95"])
                style = "bold" if paired["significant"] else None
            table.add_row(
                metric if position == 0 else "",
                plain(name),
                format_number(summary["mean"]),
                _interval(summary["ci95"]),
                format_number(summary["p50"]),
                format_number(summary["p85"]),
                delta,
                delta_ci,
                style=style,
            )
    notes = ["* the difference's interval excludes zero."]
    if result.comparisons:
        notes.append(
            "Δ = strategy − baseline, paired by replication (paired t, 95%)"
            + (
                f"; Bonferroni-adjusted for {result.comparisons} comparisons: each interval "
                f"at {100 - 5 / result.comparisons:.4g}%, all of one metric together at 95%."
                if result.adjustment == "bonferroni"
                else "."
            )
        )
    if empty:
        notes.append(f"No values in any run: {', '.join(empty)}.")
    table.caption = plain(" ".join(notes))
    table.caption_justify = "left"
    if result.oracle is None:
        _print_wide(table)
    else:
        _print_wide(table, _oracle_table(result))


def _oracle_table(result: Any) -> Any:
    from rich.table import Table

    oracle = result.oracle
    table = Table(
        title=(
            f"oracle: every order of {oracle['items']} items ({oracle['orders']:,} orders) "
            f"on the same {oracle['runs']} runs"
        ),
        title_justify="left",
    )
    for heading in (
        "strategy",
        "net_value",
        "regret",
        "regret (hindsight)",
        "cost_of_delay",
        "regret",
        "regret (hindsight)",
    ):
        table.add_column(heading, justify="left" if heading == "strategy" else "right")
    net, cost = oracle["net_value"], oracle["cost_of_delay"]
    table.add_row(
        "best order",
        format_number(net["best_mean"]),
        "",
        "",
        format_number(cost["best_mean"]),
        "",
        "",
    )
    for name in result.strategies:
        table.add_row(
            plain(name),
            format_number(result.summary[name]["net_value"]["mean"]),
            format_number(net["regret"][name]["regret"]),
            format_number(net["regret"][name]["regret_hindsight"]),
            format_number(result.summary[name]["cost_of_delay"]["mean"]),
            format_number(cost["regret"][name]["regret"]),
            format_number(cost["regret"][name]["regret_hindsight"]),
        )
    table.caption = plain(
        f"best order by net value: {', '.join(net['best_titles'])}; "
        f"by cost of delay: {', '.join(cost['best_titles'])}. "
        "Regret: how much worse than the best single order (hindsight: than the best order "
        "for each run's luck)."
    )
    table.caption_justify = "left"
    return table


def print_sweep_table(result: Any, metrics: Sequence[str]) -> None:
    """The readable table of ``posim sweep``: one row per value, ``mean ± CI half-width``."""
    from rich.table import Table

    title = (
        f"{result.scenario} · {result.strategy} · {result.parameter} · "
        f"{result.runs} run{'s' if result.runs != 1 else ''} per value on common random numbers"
    )
    table = Table(title=plain(title), title_justify="left")
    table.add_column(plain(result.parameter), justify="right")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for value, summary in zip(result.parameter_values, result.summary, strict=True):
        cells = []
        for metric in metrics:
            entry = summary[metric]
            if entry["mean"] is None:
                cells.append("—")
                continue
            half = (entry["ci95"][1] - entry["ci95"][0]) / 2
            cells.append(f"{format_number(entry['mean'])} ± {format_number(half)}")
        table.add_row(plain("none" if value is None else value), *cells)
    table.caption = "mean ± half-width of its 95% confidence interval."
    table.caption_justify = "left"
    _print_wide(table)
