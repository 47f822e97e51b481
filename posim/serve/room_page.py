"""The trainer's page of a workshop room: the players live, then the class debrief.

Plain HTML from the server with a few lines of script that refresh the
players' table every two seconds from ``/room/players.json``; the debrief
(shown once the trainer presses "Reveal") is rendered here, its chart an
inline SVG (:func:`posim.serve.room_results.spread_svg`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from posim.serve import page, room_results

if TYPE_CHECKING:
    from posim.serve.room import Room

REFRESH_MILLISECONDS = 2000
"""How often the page refreshes the players' table."""

_SCRIPT = """
<script>
function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
function number(value, digits) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
}
async function refresh() {
  try {
    const response = await fetch("/room/players.json", {cache: "no-store"});
    if (!response.ok) return;
    const rows = await response.json();
    const body = document.querySelector("#players tbody");
    body.replaceChildren(...rows.map(row => {
      const tr = document.createElement("tr");
      tr.dataset.name = row.name;
      tr.append(
        cell(row.name),
        cell(number(row.day, 1) + (row.horizon ? " / " + number(row.horizon, 0) : ""), "n day"),
        cell(number(row.score, 1), "n score"),
        cell(row.grade || "—"),
        cell(number(row.trust, 0), "n"),
        cell(row.state, "state " + row.state));
      return tr;
    }));
    document.querySelector("#count").textContent = rows.length;
  } catch (error) { /* the server stopped: keep the last table */ }
}
setInterval(refresh, REFRESH);
</script>
"""


def _number(value: Any, digits: int = 1) -> str:
    if value is None or isinstance(value, bool):
        return "—"
    return f"{float(value):,.{digits}f}"


def players_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The players' table (the script refreshes its body)."""
    body = []
    for row in rows:
        horizon = f" / {row['horizon']:.0f}" if row.get("horizon") else ""
        body.append(
            f"<tr data-name='{html.escape(str(row['name']))}'>"
            f"<td>{html.escape(str(row['name']))}</td>"
            f"<td class='n day'>{_number(row.get('day'))}{horizon}</td>"
            f"<td class='n score'>{_number(row.get('score'))}</td>"
            f"<td>{html.escape(str(row.get('grade') or '—'))}</td>"
            f"<td class='n'>{_number(row.get('trust'), 0)}</td>"
            f"<td class='state {row['state']}'>{row['state']}</td></tr>"
        )
    return (
        "<table id='players'><thead><tr><th>player</th><th class='n'>day</th>"
        "<th class='n'>score so far</th><th>grade</th><th class='n'>trust</th><th>state</th>"
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def debrief_section(results: Mapping[str, Any]) -> str:
    """The class debrief: same luck, the spread, the lesson."""
    debrief = results["debrief"]
    players = results["players"]
    entries = [
        (
            row["name"],
            row.get("score"),
            row.get("grade"),
            row.get("net_value"),
            row.get("trust_mean"),
            "player",
        )
        for row in players
    ]
    entries += [
        (
            f"strategy: {s['strategy']}",
            s["score"],
            s["grade"],
            s["net_value"],
            s["trust_mean"],
            "strategy",
        )
        for s in debrief["strategies"]
    ]
    entries.sort(key=lambda entry: -(entry[1] if entry[1] is not None else -1e18))
    rows = "".join(
        f"<tr class='{kind}'><td>{html.escape(str(who))}</td><td class='n'>{_number(score)}</td>"
        f"<td>{html.escape(str(grade or ''))}</td><td class='n'>{_number(net, 0)}</td>"
        f"<td class='n'>{_number(trust, 0)}</td></tr>"
        for who, score, grade, net, trust, kind in entries
    )
    seeds = debrief["seeds"]
    luck = f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds (strategies: mean)"
    parts = [
        "<h2>Class debrief</h2>",
        f"<p>Every player beside every built-in strategy on the same luck ({luck}). "
        "Players who have not finished show their score so far.</p>",
        "<table id='same-luck'><thead><tr><th>who</th><th class='n'>score</th><th>grade</th>"
        f"<th class='n'>net value</th><th class='n'>trust</th></tr></thead><tbody>{rows}"
        "</tbody></table>",
        "<h3>The spread of the class</h3>",
        "<p class='muted'>Boxes: quartiles and median of the players; dots: players; "
        "dashed ticks: the strategies.</p>",
        room_results.spread_svg(players, debrief["strategies"]),
    ]
    lesson = debrief.get("lesson")
    parts.append("<h3>The lesson</h3>")
    if lesson is None:
        parts.append("<p>This scenario has no lesson check (only built-in scenarios do).</p>")
    else:
        better = "lower" if lesson["lower_is_better"] else "higher"
        warned = html.escape(lesson["warned_against"])
        finished = lesson["finished_players"]
        count = (
            f"<strong>{lesson['beat_it']} of {finished}</strong> finished "
            f"{'player' if finished == 1 else 'players'} beat <strong>{warned}</strong>"
            if finished
            else f"<strong>No player has finished yet</strong>; once they do, this counts "
            f"how many beat <strong>{warned}</strong>"
        )
        parts.append(
            f"<p>{html.escape(lesson['lesson'])}</p>"
            f"<p id='lesson-count'>{count}, the strategy this lesson warns against, on "
            f"{html.escape(lesson['metric'])} ({better} is better) with their own luck.</p>"
        )
    return "".join(parts)


def trainer_page(
    room: Room,
    rows: Sequence[Mapping[str, Any]],
    results: Mapping[str, Any] | None,
    join_url: str,
) -> str:
    """The whole trainer's page."""
    title = html.escape(room.scenario.display_title)
    seed = "each player their own seed" if room.random_seeds else f"seed {room.seed} for everyone"
    reveal = (
        "<form method='post' action='/room/reveal'>"
        f"<input type='hidden' name='code' value='{room.code}'>"
        + (
            "<button type='submit' name='hide' value='1'>Hide the debrief</button>"
            if results is not None
            else "<button type='submit'>Reveal the class debrief</button>"
        )
        + "</form>"
    )
    body = [
        f"<h1>Workshop room: {title}</h1>",
        f"<p>Players join at <strong>{html.escape(join_url)}</strong> · {html.escape(seed)} · "
        f"<span id='count'>{len(rows)}</span> joined · room folder "
        f"<span class='muted'>{html.escape(str(room.folder))}</span></p>",
        players_table(rows),
        "<p><a href='/room/results.csv'>results.csv</a> "
        "<a href='/room/results.json'>results.json</a></p>",
        reveal,
    ]
    if results is not None:
        body.append(debrief_section(results))
    script = _SCRIPT.replace("REFRESH", str(REFRESH_MILLISECONDS))
    return page.document("posim room", "".join(body) + script)
