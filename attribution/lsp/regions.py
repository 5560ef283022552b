"""A document as function-sized regions, so an edit re-attributes only the region it touched.

Chunks follow the syntax: each outermost function or method is a chunk, and so is each run
of lines between them. A function of at least `big` tokens is a region of its own. Runs of
other chunks (small functions, module code, class headers) are cut into regions by their
content, as content-defined chunking does: after a chunk whose text hashes to 0 modulo
`CUT_EVERY`, once the region holds `big` tokens, or in any case at `MAX_REGION_TOKENS`. So
region bounds depend on nearby chunks only, and an edit moves no region far from it.
Region text is dedented (a method parses like a function) and keeps its line count, so a
match's lines in the region plus the region's first line minus one are its lines in the
document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from attribution.core.languages import UNIT_TYPES, grammar, has_grammar

CHARS_PER_TOKEN = 4  # non-blank characters per token, about (to size regions)
CUT_EVERY = 3  # a run is cut after about one chunk in this many
MAX_REGION_TOKENS = 200  # ... and always before it grows past this
MAX_GAP_LINES = 20  # matches of one source at most this far apart may be one match
GAP_SLACK = 3  # ... when the gaps between them differ by at most this (or half the gap)


@dataclass(frozen=True)
class Region:
    """Lines first..last (1-based, inclusive) of a document."""

    first: int
    last: int
    text: str
    max_tokens: int  # an upper bound of its tokens (its non-blank characters)
    digest: str  # of the text: the key of cached results


def split(text: str, language: str, big: int) -> list[Region]:
    """The regions of a document (one region when the language has no grammar)."""
    lines = text.split("\n")
    chunks = _chunks(_units(text, language), len(lines))
    sizes = [_size(lines, a, b) for a, b, _ in chunks]
    regions: list[Region] = []
    run: list[int] = []  # indices of consecutive small chunks

    def close_run() -> None:
        if run:
            first, last = chunks[run[0]][0], chunks[run[-1]][1]
            regions.append(_region(lines, first, last, sum(sizes[i] for i in run)))
            run.clear()

    for i, (first, last, is_unit) in enumerate(chunks):
        if is_unit and sizes[i] // CHARS_PER_TOKEN >= big:
            close_run()
            regions.append(_region(lines, first, last, sizes[i]))
            continue
        if run and (sum(sizes[j] for j in run) + sizes[i]) // CHARS_PER_TOKEN > MAX_REGION_TOKENS:
            close_run()
        run.append(i)
        held = sum(sizes[j] for j in run) // CHARS_PER_TOKEN
        if held >= big and _cut_after(lines, first, last):
            close_run()
    close_run()
    return regions


def _cut_after(lines: list[str], first: int, last: int) -> bool:
    """A content-defined cut point: depends on this chunk's text only."""
    text = "\n".join(lines[first - 1 : last]).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=4).digest()[0] % CUT_EVERY == 0


_PARSERS: dict[str, Any] = {}


def _units(text: str, language: str) -> list[tuple[int, int]]:
    """Line ranges of the outermost functions and methods (a syntax tree walk that does not
    enter them: much cheaper than tokenizing the document)."""
    if not has_grammar(language):
        return []
    parser = _PARSERS.get(language)
    if parser is None:
        import tree_sitter

        parser = _PARSERS[language] = tree_sitter.Parser(grammar(language))
    tree = parser.parse(text.encode("utf-8", "surrogatepass"))
    out: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        for child in reversed(node.children):
            if child.type in UNIT_TYPES:
                end = child.end_point
                first = child.start_point[0] + 1
                out.append((first, max(first, end[0] + (1 if end[1] > 0 else 0))))
            elif child.child_count:
                stack.append(child)
    return sorted(out)


def _chunks(units: list[tuple[int, int]], n_lines: int) -> list[tuple[int, int, bool]]:
    """(first, last, is_function) line ranges covering lines 1..n_lines."""
    merged: list[list[int]] = []
    for first, last in units:
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)  # nested, or sharing a line: one chunk
        else:
            merged.append([first, last])
    out: list[tuple[int, int, bool]] = []
    line = 1
    for first, last in merged:
        if first > line:
            out.append((line, first - 1, False))
        out.append((first, last, True))
        line = last + 1
    if line <= n_lines:
        out.append((line, n_lines, False))
    return out


def _size(lines: list[str], first: int, last: int) -> int:
    """Non-blank characters of lines first..last: no more tokens than that."""
    return sum(
        len(ln) - ln.count(" ") - ln.count("\t") - ln.count("\r") for ln in lines[first - 1 : last]
    )


def _region(lines: list[str], first: int, last: int, size: int) -> Region:
    text = dedent(lines[first - 1 : last])
    return Region(first, last, text, size, digest(text))


def digest(text: str) -> str:
    """A short, collision-safe key of a text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def dedent(lines: list[str]) -> str:
    """The lines without the indentation they all share (blank lines aside), line count kept."""
    indents = [ln[: len(ln) - len(ln.lstrip(" \t"))] for ln in lines if ln.strip()]
    prefix = indents[0] if indents else ""
    for ind in indents[1:]:
        while not ind.startswith(prefix):
            prefix = prefix[:-1]
    cut = len(prefix)
    return "\n".join(ln[cut:] if ln.startswith(prefix) else ln.lstrip(" \t") for ln in lines) + "\n"


# ---------------------------------------------------------------- results back to the document
def shift(matches: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    """Matches of a region with their query lines moved to the document's lines."""
    out = []
    for m in matches:
        spans = [
            {**s, "query_lines": [s["query_lines"][0] + offset, s["query_lines"][1] + offset]}
            for s in m.get("spans", [])
        ]
        q = m["query_lines"]
        out.append({**m, "query_lines": [q[0] + offset, q[1] + offset], "spans": spans})
    return out


def merge_adjacent(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Matches of the same source in neighbouring regions, in order on both sides, as one
    (a copied class or module is one finding, as when the whole document is attributed)."""
    ordered = sorted(matches, key=lambda m: (m["query_lines"][0], m["query_lines"][1]))
    out: list[dict[str, Any]] = []
    for m in ordered:
        prev = out[-1] if out else None
        if prev is not None and _continues(prev, m):
            out[-1] = _joined(prev, m)
        else:
            out.append(m)
    return out


def _continues(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """b follows a in the same source, with a gap of about the same size on both sides."""
    if a["source"]["id"] != b["source"]["id"]:
        return False
    query_gap = b["query_lines"][0] - a["query_lines"][1]
    source_gap = b["source_lines"][0] - a["source_lines"][1]
    slack = max(GAP_SLACK, query_gap // 2)
    return (
        0 < query_gap <= MAX_GAP_LINES and source_gap > 0 and abs(source_gap - query_gap) <= slack
    )


def _joined(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    tokens = a.get("tokens", 0) + b.get("tokens", 0)
    weight = sum(m.get("tokens", 0) / max(m.get("coverage", 1.0), 1e-9) for m in (a, b))
    kinds = {a["match_type"], b["match_type"]}
    kind = "near" if "near" in kinds else "renamed" if "renamed" in kinds else "exact"
    return {
        **a,
        "match_type": kind,
        "query_lines": [a["query_lines"][0], b["query_lines"][1]],
        "source_lines": [a["source_lines"][0], b["source_lines"][1]],
        "spans": a.get("spans", []) + b.get("spans", []),
        "tokens": tokens,
        "coverage": round(tokens / weight, 4) if weight else a.get("coverage", 0.0),
        "score": max(a.get("score", 0.0), b.get("score", 0.0)),
    }
