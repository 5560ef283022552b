"""`GET /v1/sources/<id>`: a source's metadata and a redacted excerpt of its lines."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from attribution.core.languages import language_for_path
from attribution.core.redact import Budget, redact
from attribution.index.store import Index
from attribution.web.errors import ApiError

_PLACEHOLDER = re.compile(r"\[REDACTED:([a-z_]+)\]")
# Redaction of one excerpt: lines past this budget are withheld, never shown unredacted.
REDACTION_BUDGET = Budget(seconds=2.0, chars=4_000_000)
CONTEXT_LINES = 200  # redacted with the excerpt on both sides, for secrets across its edges


def parse_lines(spec: str | None, total: int, max_lines: int) -> tuple[int, int, bool]:
    """(first, last, truncated) of a `a-b` or `a` line range within a file of `total` lines;
    no range: the whole file. Ranges longer than max_lines are cut."""
    if not spec:
        first, last = 1, total
    else:
        a, _, b = spec.partition("-")
        first, last = int(a), int(b or a)
        if first < 1 or last < first:
            raise ApiError(422, "unprocessable", f"bad line range {spec!r}: need 1 <= a <= b")
        if first > max(total, 1):
            raise ApiError(
                422, "unprocessable", f"bad line range {spec!r}: the file has {total} lines"
            )
        last = min(last, total)
    truncated = last - first + 1 > max_lines
    if truncated:
        last = first + max_lines - 1
    return first, last, truncated


def split_lines(text: str) -> list[str]:
    """Lines as the engine counts them (by \\n only), without their line breaks."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _redacted(all_lines: list[str], first: int, last: int) -> list[str]:
    """Lines first..last, redacted with CONTEXT_LINES around them (a secret spanning the
    excerpt's edge is still found) within REDACTION_BUDGET."""
    lo, hi = max(1, first - CONTEXT_LINES), min(len(all_lines), last + CONTEXT_LINES)
    shown = redact("\n".join(all_lines[lo - 1 : hi]), REDACTION_BUDGET).split("\n")
    return shown[first - lo : last - lo + 1]


def source_excerpt(
    index: Index, source_id: str, lines: str | None, max_lines: int
) -> dict[str, Any]:
    """The answer of GET /v1/sources/<id>; 404 for an unknown, malformed or removed id."""
    try:
        found = index.find_source(source_id)
    except ValueError as err:
        raise ApiError(404, "not_found", str(err)) from None
    if found is None:
        raise ApiError(404, "not_found", f"no source {source_id!r} in this index")
    source, blob = found
    all_lines = split_lines(index.content(blob).decode("utf-8", "replace"))
    first, last, truncated = parse_lines(lines, len(all_lines), max_lines)
    body = _redacted(all_lines, first, last) if all_lines else []
    excerpt = "\n".join(body) + ("\n" if body else "")
    return {
        "source": source.to_json(),
        "language": language_for_path(source.path),
        "lines": [first, last] if body else [0, 0],
        "total_lines": len(all_lines),
        "truncated": truncated,
        "excerpt": excerpt,
        "redactions": dict(Counter(_PLACEHOLDER.findall(excerpt))),
    }
