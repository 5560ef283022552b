"""Small inline SVG charts (no script, no external resource)."""

from __future__ import annotations

from html import escape

PALETTE = {
    "permissive": "#2e7d32",
    "weak-copyleft": "#f9a825",
    "copyleft": "#c62828",
    "proprietary": "#6a1b9a",
    "unknown": "#757575",
}
DEFAULT_COLOUR = "#1565c0"
BAR_HEIGHT = 22
LABEL_WIDTH = 220
CHART_WIDTH = 640


def bar_chart(title: str, counts: list[tuple[str, int]], colour_by_label: bool = False) -> str:
    """A horizontal bar chart of (label, count), largest first as given."""
    if not counts:
        return f'<svg role="img" aria-label="{escape(title)}: none" width="0" height="0"></svg>'
    top = max(n for _, n in counts) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 60
    height = BAR_HEIGHT * len(counts) + 8
    rows = []
    for i, (label, n) in enumerate(counts):
        y = 4 + i * BAR_HEIGHT
        width = max(2, round(room * n / top))
        colour = PALETTE.get(label, DEFAULT_COLOUR) if colour_by_label else DEFAULT_COLOUR
        shown = label if len(label) <= 34 else "…" + label[-33:]
        rows.append(
            f'<g class="bar"><title>{escape(label)}: {n}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{BAR_HEIGHT - 6}" '
            f'fill="{colour}" rx="2"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 15}">{n}</text></g>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>'
    )
