"""Pictures drawn by the app itself, as SVG text: the process diagram and the dashboard chart.

No script and no external service: the association's data stays in-house, and the page is
readable before anything loads. The diagram is laid out from the definition (states in
rows by their distance from the initial state, final states on the last row), drawn top to
bottom so that it fits a phone's width.
"""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from processes.definition import ProcessDefinition

WIDTH = 440
NODE_HEIGHT = 46
ROW_GAP = 34
MARGIN = 10
GAP = 10
FONT = 13
CHAR_WIDTH = 6.8  # average width of a 13 px sans-serif character, to wrap labels


@dataclass(frozen=True)
class Box:
    id: str
    label: str
    x: float
    y: float
    width: float
    final: bool


def _edges(definition: ProcessDefinition) -> list[tuple[str, str]]:
    """Distinct (source, destination) pairs, staying put left out, in definition order."""
    seen: dict[tuple[str, str], None] = {}
    for tr in definition.transitions:
        for source in tr.sources:
            dest = source if tr.dest == "=" else tr.dest
            if dest != source:
                seen[(source, dest)] = None
    return list(seen)


def _rows(definition: ProcessDefinition, edges: list[tuple[str, str]]) -> list[list[str]]:
    """States by row: distance from the initial state over open states; finals last."""
    finals = {s.id for s in definition.states if s.final}
    rank = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        here = queue.popleft()
        for source, dest in edges:
            if source == here and dest not in rank and dest not in finals:
                rank[dest] = rank[here] + 1
                queue.append(dest)
    last = max(rank.values(), default=0)
    for st in definition.states:
        if st.id not in rank and st.id not in finals:
            last += 1
            rank[st.id] = last
    rows: list[list[str]] = [[] for _ in range(last + 1)]
    for st in definition.states:
        if st.id not in finals:
            rows[rank[st.id]].append(st.id)
    rows.append([s.id for s in definition.states if s.final])
    return [row for row in rows if row]


def _wrap(label: str, width: float) -> list[str]:
    chars = max(8, int((width - 10) / CHAR_WIDTH))
    lines = textwrap.wrap(label, chars, break_long_words=False) or [label]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), chars, placeholder="…")]
    return lines


def _layout(definition: ProcessDefinition, rows: list[list[str]]) -> dict[str, Box]:
    labels = {s.id: s.label for s in definition.states}
    finals = {s.id for s in definition.states if s.final}
    boxes: dict[str, Box] = {}
    for r, row in enumerate(rows):
        width = (WIDTH - 2 * MARGIN - GAP * (len(row) - 1)) / len(row)
        width = min(width, 300)
        total = width * len(row) + GAP * (len(row) - 1)
        left = (WIDTH - total) / 2
        for i, state in enumerate(row):
            boxes[state] = Box(
                id=state,
                label=labels[state],
                x=left + i * (width + GAP),
                y=MARGIN + r * (NODE_HEIGHT + ROW_GAP),
                width=width,
                final=state in finals,
            )
    return boxes


def _path(a: Box, b: Box) -> str:
    """A curve from a to b: downwards between rows, around the right side going back up."""
    if b.y > a.y:
        x1, y1 = a.x + a.width / 2, a.y + NODE_HEIGHT
        x2, y2 = b.x + b.width / 2, b.y
        bend = (y2 - y1) / 2
        return (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} "
            f"{x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
        )
    if b.y == a.y:
        left, right = (a, b) if a.x < b.x else (b, a)
        y = a.y + NODE_HEIGHT / 2
        x1 = a.x + a.width if a is left else a.x
        x2 = b.x if b is right else b.x + b.width
        return f"M{x1:.1f},{y:.1f} L{x2:.1f},{y:.1f}" if left is not right else ""
    x1, y1 = a.x + a.width, a.y + NODE_HEIGHT / 2
    x2, y2 = b.x + b.width, b.y + NODE_HEIGHT / 2
    out = min(WIDTH - 2, max(x1, x2) + 28)
    return f"M{x1:.1f},{y1:.1f} C{out:.1f},{y1:.1f} {out:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def process_diagram(
    definition: ProcessDefinition,
    *,
    current: str | None = None,
    visited: Iterable[str] = (),
    title: str | None = None,
) -> str:
    """The definition's states and moves; `current` highlighted, `visited` shaded.

    The moves out of the current state are drawn in the accent colour: what can happen next.
    """
    edges = _edges(definition)
    rows = _rows(definition, edges)
    boxes = _layout(definition, rows)
    height = MARGIN * 2 + len(rows) * NODE_HEIGHT + (len(rows) - 1) * ROW_GAP
    been = set(visited)
    caption = title or definition.label
    if current:
        caption += f" — état actuel : {definition.state(current).label}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(caption)}">',
        f"<title>{escape(caption)}</title>",
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="arrow"/></marker>'
        '<marker id="arrow-next" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="arrow-next"/></marker>'
        "</defs>",
    ]
    # Other moves first, so that the next moves are drawn over them.
    ordered = sorted(edges, key=lambda e: e[0] == current)
    for source, dest in ordered:
        d = _path(boxes[source], boxes[dest])
        if not d:
            continue
        nxt = source == current
        css = "edge edge-next" if nxt else "edge"
        marker = "arrow-next" if nxt else "arrow"
        parts.append(f'<path class="{css}" d="{d}" marker-end="url(#{marker})"/>')
    for box in boxes.values():
        classes = ["state"]
        if box.final:
            classes.append("state-final")
        if box.id in been:
            classes.append("state-visited")
        if box.id == current:
            classes.append("state-current")
        lines = _wrap(box.label, box.width)
        cx = box.x + box.width / 2
        first = box.y + NODE_HEIGHT / 2 - (len(lines) - 1) * (FONT + 2) / 2 + FONT / 3
        label = "".join(
            f'<tspan x="{cx:.1f}" y="{first + i * (FONT + 2):.1f}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        current_attr = ' aria-current="step"' if box.id == current else ""
        parts.append(
            f'<g class="{" ".join(classes)}" data-state="{escape(box.id)}"{current_attr}>'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
            f'height="{NODE_HEIGHT}" rx="{12 if box.final else 6}"/>'
            f'<text text-anchor="middle" font-size="{FONT}">{label}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Series:
    key: str
    label: str


def stacked_bars(
    rows: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[Series],
    *,
    title: str,
) -> str:
    """Horizontal stacked bars, one per row (a site), one colour per series (a process).

    Each row's name is written above its bar and its total after it, so the chart reads on a
    phone without a separate axis.
    """
    bar, row_gap, label_gap = 16, 12, 16
    top = 8
    # The legend wraps: a process's name is long ("Amélioration de l'entretien du logement").
    legend: list[tuple[float, float, int, Series]] = []
    x, y = float(MARGIN), float(top)
    for i, s in enumerate(series):
        width = 16 + len(s.label) * CHAR_WIDTH + 18
        if x + width > WIDTH - MARGIN and x > MARGIN:
            x, y = float(MARGIN), y + 20
        legend.append((x, y, i, s))
        x += width
    legend_height = y - top + 26
    height = top + legend_height + len(rows) * (bar + row_gap + label_gap) + 8
    largest = max((sum(counts.values()) for _, counts in rows), default=0) or 1
    usable = WIDTH - 2 * MARGIN - 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for x, y, i, s in legend:
        parts.append(
            f'<rect class="series-{i % 6}" x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2"/>'
            f'<text x="{x + 16:.1f}" y="{y + 10:.1f}" font-size="{FONT}">{escape(s.label)}</text>'
        )
    y = top + legend_height
    for name, counts in rows:
        parts.append(
            f'<text x="{MARGIN}" y="{y + 12:.1f}" font-size="{FONT}" class="row-label">'
            f"{escape(name)}</text>"
        )
        y += label_gap
        x = float(MARGIN)
        for i, s in enumerate(series):
            value = counts.get(s.key, 0)
            if not value:
                continue
            w = usable * value / largest
            parts.append(
                f'<rect class="series-{i % 6}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                f'height="{bar}">'
                f"<title>{escape(name)} · {escape(s.label)} : {value}</title></rect>"
            )
            x += w
        total = sum(counts.values())
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 12:.1f}" font-size="{FONT}" class="total">'
            f"{total}</text>"
        )
        y += bar + row_gap
    parts.append("</svg>")
    return "".join(parts)
