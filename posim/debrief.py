"""The debrief of a game: same luck, over seeds, and whether each lesson held.

One game is one draw of luck.  A student who reads only "same luck" (every
built-in ordering on the player's seed) can learn the wrong lesson from a kind
or cruel week, so the debrief puts beside it the same orderings over
:data:`DEFAULT_RUNS` other seeds, and says per lesson whether it held in this
game *and* whether it holds on average (DESIGN section 6, ``replay --debrief``).

* **Same luck**: every built-in ordering (:data:`posim.engine.ORDERINGS`)
  with honest reporting on the player's seed, with every metric.
* **Over seeds**: the same orderings on replication seeds
  ``replication_seed(seed, r)``, ``r = 0 .. runs-1`` (exactly the seeds of
  ``posim run --seed SEED --runs RUNS``): for the score and every metric the
  mean, the Student-t 95 % interval and the 15th/85th percentiles (linear
  interpolation, as ``run``'s summary).
* **Your luck**: per ordering, the share of its over-seed scores below its
  same-luck score, ties counted half.
* **Lessons**: from the scenario's lesson check
  (:data:`posim.career.LESSON_CHECKS`): whether the recommended product owner
  beat the warned one on the lesson's metric on this seed, whether it does on
  average (the paired 95 % interval of the difference over the seeds
  excludes zero on the right side), and whether the player beat the warned
  one on this seed.

Every simulation is a unit handed to :func:`posim.executors.run_ordered`, so
the work runs on several processes and the document is identical for any
number of jobs.  Nothing here imports Textual; Rich is imported only by
:func:`rich_tables`, to print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim import stats
from posim.engine import METRIC_NAMES, ORDERINGS, replication_seed, simulate
from posim.engine.scoring import grade_for
from posim.engine.strategies import parse_spec
from posim.executors import run_ordered, worker_count
from posim.runs import dumps_json

if TYPE_CHECKING:
    from posim.engine.metrics import Result
    from posim.scenario import Scenario

__all__ = [
    "DEFAULT_RUNS",
    "MIN_RUNS",
    "Cancelled",
    "DebriefError",
    "build",
    "digits",
    "lesson_sentence",
    "markdown",
    "player_section",
    "rich_tables",
    "rows",
    "simulations",
    "trust_log",
    "write_files",
]

DEFAULT_RUNS = 30
"""Other seeds each ordering is run on (at least 30 by the issue's bar)."""

MIN_RUNS = 2
"""Fewest seeds accepted (an interval needs two)."""

MAX_RUNS = 10_000
"""Most seeds accepted."""

_SUMMARISED = ("score", *(name for name in METRIC_NAMES if name != "score"))
"""Over seeds: the score first, then every other metric."""

PERCENTILES = (15, 85)
"""The spread shown beside each mean: the 15th and 85th percentiles."""

REPORTING = "honest"
"""Every ordering of same luck and over seeds reports honestly."""

JSON_NAME = "debrief.json"
"""The trainer's copy, machine-readable."""

MARKDOWN_NAME = "debrief.md"
"""The trainer's copy, for people."""


class DebriefError(ValueError):
    """Bad debrief options (one line)."""


class Cancelled(Exception):
    """The debrief was cancelled before it finished (the screen closed)."""


# --------------------------------------------------------------------------
# Work units: one simulation each (module-level and picklable for workers)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One simulation: a scenario (or a lesson's variant), an ordering, a reporting policy, a seed."""

    scenario: Scenario
    ordering: str
    reporting: str
    seed: int


def _run_unit(unit: _Unit) -> dict[str, float | None]:
    """Run one unit; its metrics (``score`` included)."""
    result = simulate(
        unit.scenario,
        strategy=unit.ordering,
        reporting=unit.reporting,
        seed=unit.seed,
        keep_records=False,
    )
    return dict(result.metrics)


@dataclass(frozen=True)
class _Side:
    """One side of a lesson: who plays, on which set-up."""

    key: str
    """``ordering`` when it is one of the built-in orderings with honest reporting, else a label."""
    spec: str
    """The strategy spec as the lesson check names it."""
    label: str
    """How the debrief names it (``wsjf without WIP limits``)."""
    scenario: Scenario
    ordering: str
    reporting: str


@dataclass(frozen=True)
class _Lesson:
    """A lesson check made runnable on this scenario."""

    text: str
    metric: str
    lower_is_better: bool
    recommended: _Side
    warned: _Side


def _lessons(scenario: Scenario) -> list[_Lesson]:
    """The scenario's lesson checks as runnable sides (none for a scenario without one)."""
    from posim import career

    check = career.lesson_check(scenario.name)
    if check is None:
        return []
    try:
        warned_scenario = (
            scenario
            if check.ignores_variant is None
            else career.variant(scenario, check.ignores_variant)
        )
    except ValueError:  # a user's scenario that reuses a built-in's name but not its shape
        return []

    def side(spec: str, label: str, on: Scenario, variant: bool) -> _Side:
        parsed = parse_spec(spec, REPORTING)
        builtin = not variant and parsed.ordering in ORDERINGS and parsed.reporting == REPORTING
        key = parsed.ordering if builtin else label
        return _Side(key, spec, label, on, parsed.ordering, parsed.reporting)

    variant = check.ignores_variant is not None
    recommended = side(check.follows, check.follows, scenario, False)
    warned = side(check.ignores, check.ignores_label or check.ignores, warned_scenario, variant)
    text = " ".join((scenario.lesson or check.summary).split())
    return [_Lesson(text, check.metric, check.lower_is_better, recommended, warned)]


# --------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------


def trust_log(result: Result) -> list[dict[str, Any]]:
    """Every trust change of a game: day, stakeholder, change, cause and why.

    The one place the debrief reads the trust history, so a change in how the
    engine keeps it is a change here only.
    """
    return [
        {
            "day": float(day),
            "stakeholder": change.stakeholder,
            "change": float(change.delta),
            "cause": change.cause,
            "why": change.explanation,
        }
        for day, change in result.trust_changes
    ]


def player_section(result: Result) -> dict[str, Any]:
    """The ``player`` part: score, grade, terms, metrics and trust log."""
    score = result.score
    return {
        "score": score.total,
        "grade": score.grade,
        "terms": [
            {
                "name": term.name,
                "weight": term.weight,
                "points": term.points,
                "measured": term.measured,
                "why": term.explanation,
            }
            for term in score.terms
        ],
        "metrics": dict(result.metrics),
        "trust_log": trust_log(result),
    }


def _spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean, 95 % interval and the 15th/85th percentiles of one metric over the seeds."""
    summary = stats.summary(values)
    low, high = PERCENTILES
    return {
        "mean": summary["mean"],
        "ci95": summary["ci95"],
        f"p{low}": stats.percentile(values, low),
        f"p{high}": stats.percentile(values, high),
    }


def luck_percentile(same_luck: float, over_seeds: Sequence[float | None]) -> float | None:
    """The share of ``over_seeds`` below ``same_luck``, ties counted half (``None``: no values)."""
    present = [value for value in over_seeds if value is not None]
    if not present:
        return None
    below = sum(1 for value in present if value < same_luck)
    ties = sum(1 for value in present if value == same_luck)
    return (below + ties / 2) / len(present)


def _better(a: float | None, b: float | None, lower_is_better: bool) -> bool:
    """Whether ``a`` beats ``b`` strictly (``False`` when either is missing)."""
    if a is None or b is None:
        return False
    return a < b if lower_is_better else a > b


def _number(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.{digits}f}"


def lesson_sentence(lesson: dict[str, Any]) -> str:
    """One plain sentence: did the lesson hold in this game, and on average?"""
    places = digits(lesson["metric"])
    metric = lesson["metric"].replace("_", " ")
    better = "lower" if lesson["lower_is_better"] else "higher"
    recommended, warned = lesson["recommended_label"], lesson["warned_label"]
    this_game = lesson["this_game"]
    runs = lesson["over_seeds"]["runs"]
    if lesson["held_this_game"]:
        first = (
            f"On your seed {recommended} beat {warned} on {metric} "
            f"({_number(this_game['recommended'], places)} against {_number(this_game['warned'], places)}, "
            f"{better} is better)"
        )
    else:
        first = (
            f"On your seed {recommended} did not beat {warned} on {metric} "
            f"({_number(this_game['recommended'], places)} against {_number(this_game['warned'], places)}, "
            f"{better} is better): your week's luck hid the lesson"
        )
    if lesson["holds_on_average"]:
        second = f"over {runs} other seeds it does, with 95 % confidence"
    else:
        second = f"over {runs} other seeds the difference is not clear at 95 % confidence"
    you = "you beat" if lesson["player_beat_warned"] else "you did not beat"
    return (
        f"{first}; {second}; {you} {warned} on {metric} "
        f"({_number(this_game['player'], places)} against {_number(this_game['warned'], places)})."
    )


def _players(scenario: Scenario) -> list[tuple[str, Scenario, str, str]]:
    """Who plays: ``(key, scenario, ordering, reporting)`` for every ordering, then lesson extras."""
    players = [(name, scenario, name, REPORTING) for name in ORDERINGS]
    seen = set(ORDERINGS)
    for lesson in _lessons(scenario):
        for side in (lesson.recommended, lesson.warned):
            if side.key not in seen:
                seen.add(side.key)
                players.append((side.key, side.scenario, side.ordering, side.reporting))
    return players


def simulations(scenario: Scenario, runs: int = DEFAULT_RUNS) -> int:
    """How many simulations :func:`build` runs (for a progress bar)."""
    return len(_players(scenario)) * (runs + 1)


def build(
    scenario: Scenario,
    result: Result,
    runs: int = DEFAULT_RUNS,
    jobs: int = 1,
    *,
    version: str = "",
    executor: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """The debrief document of a finished game (DESIGN section 6, ``replay --debrief``).

    Args:
        scenario: the scenario the game was played on.
        result: the game's result at the horizon (``result.seed`` is the player's seed).
        runs: other seeds each ordering runs on.
        jobs: worker processes (``0`` = every core, ``1`` = this process only).
        version: posim's version, for the ``posim`` key.
        executor: ``serial`` or ``process`` (default: serial for one job, else process).
        progress: called with ``(done, total)`` simulations as they finish.
        cancelled: polled between simulations; when it returns true,
            :class:`Cancelled` is raised and the workers are stopped.

    Raises:
        DebriefError: ``runs`` or ``jobs`` out of range.
        Cancelled: ``cancelled()`` became true.
    """
    if not MIN_RUNS <= runs <= MAX_RUNS:
        raise DebriefError(f"--runs must be between {MIN_RUNS} and {MAX_RUNS}, got {runs}")
    if jobs < 0:
        raise DebriefError(f"--jobs must be >= 0 (0 = every core), got {jobs}")
    seed = result.seed
    seeds = [replication_seed(seed, r) for r in range(runs)]
    orderings = list(ORDERINGS)
    lessons = _lessons(scenario)
    # Every simulation, in a fixed order: same luck first, then seed by seed.
    players = _players(scenario)
    units = [_Unit(on, ordering, reporting, seed) for _, on, ordering, reporting in players]
    units += [
        _Unit(on, ordering, reporting, each)
        for each in seeds
        for _, on, ordering, reporting in players
    ]
    total = len(units)
    workers = min(worker_count(jobs), total)
    chosen = executor or ("serial" if workers <= 1 else "process")
    finished = 0

    def tick(count: int) -> None:
        nonlocal finished
        finished += count
        if progress is not None:
            progress(finished, total)

    outcomes: Iterator[dict[str, float | None]] = run_ordered(
        _run_unit, units, executor=chosen, jobs=workers, progress=tick
    )
    collected: list[dict[str, float | None]] = []
    try:
        for outcome in outcomes:
            collected.append(outcome)
            if cancelled is not None and cancelled():
                raise Cancelled
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()

    keys = [key for key, _, _, _ in players]
    same: dict[str, dict[str, float | None]] = dict(zip(keys, collected[: len(keys)], strict=True))
    values: dict[str, dict[str, list[float | None]]] = {
        key: {metric: [] for metric in METRIC_NAMES} for key in keys
    }
    for index, metrics in enumerate(collected[len(keys) :]):
        key = keys[index % len(keys)]
        for metric in METRIC_NAMES:
            values[key][metric].append(metrics.get(metric))

    same_luck: dict[str, dict[str, Any]] = {}
    for name in orderings:
        metrics = same[name]
        total_score = float(metrics["score"] or 0.0)
        same_luck[name] = {
            "score": total_score,
            "grade": grade_for(total_score),
            "metrics": metrics,
        }

    over_seeds = {
        "runs": runs,
        "seed": seed,
        "strategies": {
            name: {metric: _spread(values[name][metric]) for metric in _SUMMARISED}
            for name in orderings
        },
        "your_luck_percentile": {
            name: luck_percentile(float(same[name]["score"] or 0.0), values[name]["score"])
            for name in orderings
        },
    }

    lesson_documents = []
    for lesson in lessons:
        metric = lesson.metric
        rec, warn = lesson.recommended.key, lesson.warned.key
        paired = stats.paired_difference(values[warn][metric], values[rec][metric])
        low, high = paired["ci95"] or (0.0, 0.0)
        holds = bool(paired["significant"]) and (high < 0 if lesson.lower_is_better else low > 0)
        score_paired = stats.paired_difference(values[warn]["score"], values[rec]["score"])
        this_game = {
            "recommended": same[rec][metric],
            "warned": same[warn][metric],
            "player": result.metrics.get(metric),
        }
        document = {
            "lesson": lesson.text,
            "metric": metric,
            "recommended": lesson.recommended.spec,
            "warned": lesson.warned.spec,
            "held_this_game": _better(
                this_game["recommended"], this_game["warned"], lesson.lower_is_better
            ),
            "holds_on_average": holds,
            "player_beat_warned": _better(
                this_game["player"], this_game["warned"], lesson.lower_is_better
            ),
            "recommended_label": lesson.recommended.label,
            "warned_label": lesson.warned.label,
            "lower_is_better": lesson.lower_is_better,
            "this_game": this_game,
            "score_this_game": {
                "recommended": same[rec]["score"],
                "warned": same[warn]["score"],
                "player": result.score.total,
            },
            "over_seeds": {
                "runs": runs,
                "recommended": _spread(values[rec][metric]),
                "warned": _spread(values[warn][metric]),
                "mean_diff": paired["mean_diff"],
                "ci95": paired["ci95"],
                "score_mean_diff": score_paired["mean_diff"],
                "score_ci95": score_paired["ci95"],
            },
        }
        document["sentence"] = lesson_sentence(document)
        lesson_documents.append(document)

    return {
        "posim": version,
        "scenario": result.scenario,
        "seed": seed,
        "player": player_section(result),
        "same_luck": same_luck,
        "over_seeds": over_seeds,
        "lessons": lesson_documents,
    }


# --------------------------------------------------------------------------
# Showing it: Markdown (the trainer's copy) and Rich tables (the terminal)
# --------------------------------------------------------------------------

SHOWN_METRICS = ("net_value", "trust_mean")
"""Metrics shown beside the score in the tables (the lesson's metric is added)."""


def _lesson_metric(document: dict[str, Any]) -> str | None:
    lessons = document.get("lessons") or []
    return lessons[0]["metric"] if lessons else None


def _shown(document: dict[str, Any]) -> list[str]:
    metrics = list(SHOWN_METRICS)
    metric = _lesson_metric(document)
    if metric is not None and metric not in metrics:
        metrics.append(metric)
    return metrics


def digits(metric: str) -> int:
    """Decimals to show: money in whole units, rates and days with two, the rest one."""
    if metric in ("net_value", "value_delivered", "cost_of_delay", "items_done"):
        return 0
    if metric in ("deadline_hit_rate", "flow_efficiency", "throughput_per_day"):
        return 2
    return 1


def _compact(value: float | None, digits: int) -> str:
    """A number for a narrow cell: thousands as ``16.4k``."""
    if value is not None and math.isfinite(value) and abs(value) >= 1000:
        return f"{value / 1000:,.1f}k"
    return _number(value, digits)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def rows(document: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The debrief's tables as rows of text cells (headers first), for any renderer."""
    shown = _shown(document)
    player = document["player"]
    terms = [["term", "weight", "points", "how it went"]]
    for term in player["terms"]:
        terms.append([term["name"], f"{term['weight']:.0%}", f"{term['points']:.1f}", term["why"]])
    terms.append(["total", "100%", f"{player['score']:.1f}", f"grade {player['grade']}"])

    same = [["product owner", "score", "grade", *shown]]
    same.append(
        [
            "you",
            f"{player['score']:.1f}",
            player["grade"],
            *(_number(player["metrics"].get(m), digits(m)) for m in shown),
        ]
    )
    for name, entry in document["same_luck"].items():
        same.append(
            [
                name,
                f"{entry['score']:.1f}",
                entry["grade"],
                *(_number(entry["metrics"].get(m), digits(m)) for m in shown),
            ]
        )

    over = document["over_seeds"]
    seeds = [["ordering", "score", "95 % CI", "p15–p85", *shown, "luck"]]
    for name, summary in over["strategies"].items():
        score = summary["score"]
        ci = score["ci95"] or [None, None]
        row = [
            name,
            _number(score["mean"]),
            f"{_number(ci[0])}–{_number(ci[1])}",
            f"{_number(score['p15'])}–{_number(score['p85'])}",
        ]
        for metric in shown:
            entry = summary[metric]
            places = digits(metric)
            row.append(
                f"{_compact(entry['mean'], places)} "
                f"({_compact(entry['p15'], places)}–{_compact(entry['p85'], places)})"
            )
        row.append(_percent(over["your_luck_percentile"].get(name)))
        seeds.append(row)

    trust = [["day", "stakeholder", "change", "cause", "why"]]
    for entry in player["trust_log"]:
        trust.append(
            [
                f"{entry['day']:.1f}",
                entry["stakeholder"],
                f"{entry['change']:+.1f}",
                entry["cause"],
                entry["why"],
            ]
        )
    return {"terms": terms, "same_luck": same, "over_seeds": seeds, "trust_log": trust}


def _markdown_table(table: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    header, *body = table
    return [line(header), "|" + "|".join("---" for _ in header) + "|", *map(line, body)]


def markdown(document: dict[str, Any], title: str | None = None) -> str:
    """The debrief as Markdown: lessons, same luck, over seeds, the score, the trust log."""
    tables = rows(document)
    player = document["player"]
    metric = _lesson_metric(document)
    heading = title or document["scenario"]
    lines = [
        f"# Debrief: {heading}",
        "",
        f"Seed {document['seed']} · score {player['score']:.1f} of 100 · grade {player['grade']}"
        + (
            f" · lesson's metric {metric}: {_number(player['metrics'].get(metric), digits(metric))}"
            if metric
            else ""
        ),
        "",
    ]
    if document["lessons"]:
        lines += ["## Lessons", ""]
        for lesson in document["lessons"]:
            lines += [f"**{lesson['lesson']}**", "", lesson["sentence"], ""]
    lines += [
        "## Same luck: every ordering on your seed (honest reporting)",
        "",
        *_markdown_table(tables["same_luck"]),
        "",
    ]
    runs = document["over_seeds"]["runs"]
    lines += [
        f"## Over {runs} other seeds (replication seeds of {document['seed']})",
        "",
        "The score's mean, its 95 % interval and its 15th–85th percentiles; each metric's mean "
        "with its 15th–85th percentiles in brackets (k = thousands). Luck: the share of that ordering's "
        "scores over the other seeds below its score on your seed (ties count half): above "
        "50 % your week was kind to it, below, cruel.",
        "",
        *_markdown_table(tables["over_seeds"]),
        "",
    ]
    lines += ["## Score, term by term", "", *_markdown_table(tables["terms"]), ""]
    lines += ["## Trust log", ""]
    if len(tables["trust_log"]) > 1:
        lines += [*_markdown_table(tables["trust_log"]), ""]
    else:
        lines += ["No trust changed.", ""]
    return "\n".join(lines)


def rich_tables(document: dict[str, Any], *, trust: bool = True) -> list[Any]:
    """The debrief as Rich renderables for a terminal (imports Rich)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    tables = rows(document)
    player = document["player"]
    metric = _lesson_metric(document)
    out: list[Any] = []
    headline = (
        f"{document['scenario']} · seed {document['seed']} · score {player['score']:.1f} "
        f"· grade {player['grade']}"
    )
    if metric:
        headline += (
            f" · lesson's metric {metric} {_number(player['metrics'].get(metric), digits(metric))}"
        )
    out.append(Text(headline, style="bold"))

    def table(key: str, title: str, wide_last: bool = False, stack: bool = False) -> Table:
        header, *body = tables[key]
        if stack:  # "mean (p15–p85)" on two lines, so narrow terminals need not cut it
            body = [[cell.replace(" (", "\n(") for cell in row] for row in body]
        shown = Table(
            title=Text(title),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            expand=wide_last,
            padding=(0, 1),
        )
        for index, heading in enumerate(header):
            last = index == len(header) - 1
            shown.add_column(
                heading,
                justify="left" if index == 0 or (wide_last and last) else "right",
                no_wrap=index == 0,
                overflow="fold",
                ratio=1 if wide_last and last else None,
            )
        for row in body:  # as Text: a name from a scenario is never read as markup
            shown.add_row(*(Text(cell) for cell in row))
        return shown

    for lesson in document["lessons"]:
        out.append(Text(f"Lesson: {lesson['lesson']}", style="bold"))
        out.append(Text(lesson["sentence"]))
    out.append(table("same_luck", "Same luck: every ordering on your seed"))
    runs = document["over_seeds"]["runs"]
    out.append(
        table(
            "over_seeds",
            f"Over {runs} other seeds: score mean, 95 % CI, p15–p85; metrics mean (p15–p85); "
            "luck: the share of that ordering's scores below its score on your seed",
            stack=True,
        )
    )
    out.append(table("terms", "Score, term by term", wide_last=True))
    if trust and len(tables["trust_log"]) > 1:
        out.append(table("trust_log", "Trust log", wide_last=True))
    return out


def write_files(
    document: dict[str, Any], folder: str | Path, title: str | None = None
) -> list[Path]:
    """Write the trainer's copy, ``debrief.json`` and ``debrief.md``, into ``folder``."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    json_path = target / JSON_NAME
    markdown_path = target / MARKDOWN_NAME
    json_path.write_text(dumps_json(document), encoding="utf-8")
    markdown_path.write_text(markdown(document, title), encoding="utf-8")
    return [json_path, markdown_path]
