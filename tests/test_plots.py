"""Tests for posim.plots: valid PNG/SVG files, byte-stable output, the numbers behind the CFD."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from posim import plots
from posim.plots import PlotsUnavailable, cumulative_flow_counts

pytest.importorskip("matplotlib")

COLUMNS = ["analysis", "development", "test"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_items() -> list[dict[str, Any]]:
    """Twelve items at every stage of the flow, with fixed timestamps."""
    items: list[dict[str, Any]] = []
    for index in range(12):
        arrived = float(index)
        committed = arrived + 1 if index < 11 else None
        started = arrived + 2 if index < 9 else None
        done = started + 2 + index % 4 if started is not None and index < 6 else None
        items.append(
            {
                "arrived": arrived,
                "committed": committed,
                "started": started,
                "done": done,
                "entered_analysis": started,
                "entered_development": started + 1 if started is not None else None,
                # Odd items skip the test column (no test effort).
                "entered_test": started + 1.5 if started is not None and index % 2 == 0 else None,
            }
        )
    return items


PER_STRATEGY = {
    "fifo": {"net_value": [100.0, 120.0, None, 90.0], "items_done": [5, 6, 7, 6]},
    "wsjf": {"net_value": [150.0, 160.0, 140.0, 155.0], "items_done": [6, 6, 8, 7]},
    "wsjf+green": {"net_value": [None, None, None, None], "items_done": [4, 5, 5, 6]},
}
SWEEP = {
    wip: {
        "lead_time_mean": {"mean": mean, "ci95": [mean - 1.0, mean + 1.5]},
        "items_done": {"mean": 10.0 - abs(wip - 3), "ci95": None},
    }
    for wip, mean in {1: 9.0, 2: 6.0, 3: 5.0, 4: 6.5, 5: 10.0}.items()
}


def draw(kind: str, path: Path, items: list[dict[str, Any]] | None = None) -> Path:
    """Call one plot function by name with the fixtures above."""
    items = make_items() if items is None else items
    calls: dict[str, Callable[[], Path]] = {
        "box_plots": lambda: plots.box_plots(PER_STRATEGY, ["net_value", "items_done"], path),
        "cumulative_flow": lambda: plots.cumulative_flow(items, COLUMNS, 20.0, path),
        "cycle_time_scatter": lambda: plots.cycle_time_scatter(items, path),
        "aging_wip": lambda: plots.aging_wip(items, COLUMNS, 10.0, path),
        "sweep_plot": lambda: plots.sweep_plot(
            "workflow.development.wip",
            [1, 2, 3, 4, 5],
            SWEEP,
            ["lead_time_mean", "items_done"],
            path,
        ),
    }
    return calls[kind]()


KINDS = ["box_plots", "cumulative_flow", "cycle_time_scatter", "aging_wip", "sweep_plot"]


def svg_texts(path: Path) -> str:
    """The SVG source: matplotlib keeps each text as a comment next to its glyph paths."""
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", KINDS)
def test_writes_a_valid_png(kind: str, tmp_path: Path) -> None:
    from matplotlib.image import imread

    path = tmp_path / f"{kind}.png"
    assert draw(kind, path) == path
    assert path.read_bytes()[:8] == PNG_MAGIC
    pixels = imread(path)
    assert pixels.ndim == 3
    assert pixels.shape[0] > 200 and pixels.shape[1] > 300
    assert pixels.std() > 0.01  # something was drawn, not a blank canvas


@pytest.mark.parametrize("kind", KINDS)
def test_writes_a_valid_svg(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.svg"
    assert draw(kind, str(path)) == path
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<dc:date>" not in svg_texts(path)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_same_inputs_give_byte_identical_files(kind: str, suffix: str, tmp_path: Path) -> None:
    first = draw(kind, tmp_path / f"first{suffix}").read_bytes()
    second = draw(kind, tmp_path / f"second{suffix}").read_bytes()
    assert first == second


def test_svg_is_identical_in_another_process_with_another_hash_seed(tmp_path: Path) -> None:
    here = draw("box_plots", tmp_path / "here.svg").read_bytes()
    there = tmp_path / "there.svg"
    script = (
        "import sys; sys.path.insert(0, sys.argv[2]); import test_plots; "
        "from pathlib import Path; test_plots.draw('box_plots', Path(sys.argv[1]))"
    )
    environment = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run(
        [sys.executable, "-c", script, str(there), str(Path(__file__).parent)],
        check=True,
        env=environment,
    )
    assert there.read_bytes() == here


def test_different_inputs_give_different_files(tmp_path: Path) -> None:
    items = make_items()
    shifted = [dict(item, done=None) for item in items[:3]] + items[3:]
    assert (
        draw("cycle_time_scatter", tmp_path / "a.svg").read_bytes()
        != draw("cycle_time_scatter", tmp_path / "b.svg", shifted).read_bytes()
    )


def test_cycle_time_scatter_labels_type7_percentiles(tmp_path: Path) -> None:
    # Done items 0..5 have cycle times 2, 3, 4, 5, 2, 3 days.
    text = svg_texts(draw("cycle_time_scatter", tmp_path / "ct.svg"))
    assert "Cycle time scatter (6 items)" in text
    assert "50%: 3.0 d" in text
    assert "85%: 4.2 d" in text  # sorted 2,2,3,3,4,5: position 4.25 → 4.25
    assert "95%: 4.8 d" in text  # position 4.75 → 4.75


def test_aging_wip_counts_items_in_progress_at_the_day(tmp_path: Path) -> None:
    # At day 10: items 0–5 finished by days 4, 6, 8, 10, 8, 10 → 0, 1, 2, 4 and 3, 5 done
    # (done <= 10); items 6, 7, 8 started on days 8, 9, 10 and are in progress.
    text = svg_texts(draw("aging_wip", tmp_path / "aging.svg"))
    assert "Aging WIP at day 10 (3 items)" in text
    assert "50%: 3.0 d" in text
    for column in COLUMNS:
        assert column in text


def test_aging_wip_with_nothing_in_progress(tmp_path: Path) -> None:
    text = svg_texts(plots.aging_wip(make_items(), COLUMNS, 0.5, tmp_path / "empty.svg"))
    assert "no work in progress" in text


def test_box_plots_name_every_strategy_and_metric(tmp_path: Path) -> None:
    text = svg_texts(draw("box_plots", tmp_path / "box.svg"))
    for name in ["fifo", "wsjf", "wsjf+green", "net_value", "items_done"]:
        assert f"<!-- {name} -->" in text


def test_box_plots_without_any_value(tmp_path: Path) -> None:
    path = plots.box_plots({"fifo": {"score": [None]}}, ["score"], tmp_path / "none.svg")
    assert "no values" in svg_texts(path)


def test_sweep_plot_draws_one_error_bar_per_value(tmp_path: Path) -> None:
    text = svg_texts(draw("sweep_plot", tmp_path / "sweep.svg"))
    assert "workflow.development.wip" in text
    assert "lead_time_mean" in text
    # Each errorbar draws one vertical line segment per point in a LineCollection.
    assert len(re.findall(r'<g id="LineCollection_\d+">', text)) == 2


def test_sweep_plot_with_categorical_values(tmp_path: Path) -> None:
    per_value = {"fifo": {"score": {"mean": 1.0, "ci95": [0.5, 1.5]}}, "wsjf": {"score": None}}
    path = plots.sweep_plot("strategy", ["fifo", "wsjf"], per_value, ["score"], tmp_path / "c.svg")
    text = svg_texts(path)
    assert "<!-- fifo -->" in text and "<!-- wsjf -->" in text


def test_cumulative_flow_counts() -> None:
    days, curves = cumulative_flow_counts(make_items(), COLUMNS, 20.0)
    assert [label for label, _ in curves] == ["backlog", "ready", *COLUMNS, "done"]
    assert days[0] == 0.0 and days[-1] == 20.0 and days == sorted(days)
    at = {label: dict(zip(days, counts, strict=True)) for label, counts in curves}
    assert at["backlog"][20.0] == 12  # every item arrived
    assert at["ready"][20.0] == 11
    assert at["analysis"][20.0] == 9
    assert at["development"][20.0] == 9
    # Odd items skip test but count as having reached it once they are done.
    assert at["test"][20.0] == 5 + 3  # even started items, plus odd ones done (1, 3, 5)
    assert at["done"][20.0] == 6
    assert at["backlog"][0.0] == 1 and at["done"][0.0] == 0
    for (_, upper), (_, lower) in itertools.pairwise(curves):
        assert all(u >= low for u, low in zip(upper, lower, strict=True))


def test_cumulative_flow_counts_ignore_events_after_the_horizon() -> None:
    items = [{"arrived": 1.0, "committed": 30.0, "started": None, "done": None}]
    days, curves = cumulative_flow_counts(items, [], 10.0)
    assert days == [0.0, 1.0, 10.0]
    assert curves == [("backlog", [0, 1, 1]), ("ready", [0, 0, 0]), ("done", [0, 0, 0])]


def test_cumulative_flow_counts_leave_out_declined_requests() -> None:
    items = [
        {"arrived": 1.0, "committed": 2.0, "started": None, "done": None},
        {"arrived": 1.5, "committed": None, "declined": 3.0, "started": None, "done": None},
    ]
    days, curves = cumulative_flow_counts(items, [], 10.0)
    assert days == [0.0, 1.0, 2.0, 10.0]
    assert curves[0] == ("backlog", [0, 1, 1, 1])


def test_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        plots.cycle_time_scatter(make_items(), tmp_path / "plot.pdf")


@pytest.mark.parametrize("kind", KINDS)
def test_missing_matplotlib_says_how_to_install(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "plot.svg"
    with pytest.raises(PlotsUnavailable) as raised:
        draw(kind, path)
    assert str(raised.value) == "plots need matplotlib: pip install 'posim[plots]'"
    assert not path.exists()


def test_importing_plots_does_not_load_matplotlib() -> None:
    script = "import sys, posim.plots; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )
    assert result.stdout.strip() == "False"
