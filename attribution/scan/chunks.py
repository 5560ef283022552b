"""Long files are attributed in windows of lines, and the windows' matches stitched back.

The engine is tuned for snippets: its alignment cost grows faster than linearly with the
query on repetitive code (a 1,200-line file aligned against a near copy of itself takes
seconds and can ask for gigabytes). A scan therefore cuts files of more than
`WINDOW_LINES` lines into windows (before the least indented line near the limit),
attributes each, shifts line numbers back, and joins matches of one source that continue
across a window boundary.
"""

from __future__ import annotations

import time
from typing import Any

from attribution.core.search import IndexView, attribute

WINDOW_LINES = 300
CUT_SLACK = 60  # a window may end this many lines early to cut before a top-level line
JOIN_GAP = 3  # query lines between two matches of one source that still join


def windows(data: bytes, size: int = WINDOW_LINES) -> list[tuple[int, bytes]]:
    """(first line, bytes) of consecutive windows of at most `size` lines."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    out, start = [], 0
    while start < len(lines):
        end = min(start + size, len(lines))
        if end < len(lines):
            end = _cut(lines, start, end)
        chunk = b"\n".join(lines[start:end]) + b"\n"
        out.append((start + 1, chunk))
        start = end
    return out


def _cut(lines: list[bytes], start: int, end: int) -> int:
    """Window end moved back to just before the least indented line that opens something
    (not a closing bracket) among the last CUT_SLACK lines: a top-level definition, else a
    method of a class; the latest such line wins."""
    best, best_indent = end, None
    for i in range(end, max(start + 1, end - CUT_SLACK), -1):
        line = lines[i]
        body = line.lstrip(b" \t")
        if not body.strip() or body[:1] in b")]}":
            continue
        indent = len(line) - len(body)
        if best_indent is None or indent < best_indent:
            best, best_indent = i, indent
    return best


def attribute_windows(data: bytes, index: IndexView, language: str, top: int) -> dict[str, Any]:
    """The SPEC result of a long file, from the results of its windows."""
    started = time.perf_counter()
    matches: list[dict[str, Any]] = []
    tokens = 0
    for first, chunk in windows(data):
        if not chunk.strip():
            continue
        result = attribute(chunk, index, language=language)
        tokens += result["query"]["tokens"]
        matches.extend(_shifted(m, first - 1, result["query"]["tokens"]) for m in result["matches"])
    matches = _join(matches)
    for m in matches:
        m["coverage"] = round(m.pop("_tokens_covered") / max(tokens, 1), 4)
    matches.sort(key=lambda m: (-m["tokens"], -m["score"], m["query_lines"][0]))
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return {
        "query": {"language": language, "lines": lines, "tokens": tokens},
        "verdict": "match" if matches else "no_match",
        "matches": matches[:top],
        "elapsed_ms": round((time.perf_counter() - started) * 1000.0, 3),
    }


def _shift(lines: list[int], by: int) -> list[int]:
    return [lines[0] + by, lines[1] + by]


def _shifted(m: dict[str, Any], by: int, window_tokens: int) -> dict[str, Any]:
    out = dict(m)
    out["query_lines"] = _shift(m["query_lines"], by)
    out["spans"] = [{**s, "query_lines": _shift(s["query_lines"], by)} for s in m["spans"]]
    out["_tokens_covered"] = m["coverage"] * window_tokens
    return out


def _join(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join a match with the next one of the same source when the second continues the first
    on both sides (the query across a window boundary, the source after it)."""
    matches.sort(key=lambda m: (m["source"]["id"], m["query_lines"][0]))
    out: list[dict[str, Any]] = []
    for m in matches:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev["source"]["id"] == m["source"]["id"]
            and 0 <= m["query_lines"][0] - prev["query_lines"][1] <= JOIN_GAP
            and m["source_lines"][0] >= prev["source_lines"][0]
        ):
            out[-1] = _merged(prev, m)
        else:
            out.append(m)
    return out


def _merged(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    tokens = a["tokens"] + b["tokens"]
    same = a["match_type"] == b["match_type"] and a["match_type"] != "near"
    return {
        **a,
        "match_type": a["match_type"] if same else "near",
        "query_lines": [a["query_lines"][0], b["query_lines"][1]],
        "source_lines": [a["source_lines"][0], max(a["source_lines"][1], b["source_lines"][1])],
        "spans": a["spans"] + b["spans"],
        "tokens": tokens,
        "score": round((a["score"] * a["tokens"] + b["score"] * b["tokens"]) / tokens, 4),
        "copies": max(a["copies"], b["copies"]),
        "_tokens_covered": a["_tokens_covered"] + b["_tokens_covered"],
    }
