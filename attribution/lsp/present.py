"""Matches as the editor shows them: diagnostics, hover text, the attribution comment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types

from attribution.core.languages import LANGUAGES
from attribution.lsp.options import Options

SOURCE = "attribution"
COMMENT_LEAD = "Adapted from"  # an attribution comment starts with this (after the marker)
LOOK_ABOVE = 4  # lines above a match searched for its attribution comment

Units = Callable[[str], int]  # length of a text in the client's position units


def match_key(m: dict[str, Any]) -> str:
    """Identifies a match of a document version (kept in Diagnostic.data)."""
    a, b = m["query_lines"]
    return f"{m['source']['id']}:{a}-{b}"


def _lines_text(lines: Sequence[int]) -> str:
    a, b = lines
    return f"line {a}" if a == b else f"lines {a}-{b}"


def who(src: dict[str, Any]) -> str:
    names = src.get("copyright", [])[:1] or src.get("authors", [])[:3]
    return "; ".join(names)


def where(m: dict[str, Any]) -> str:
    src = m["source"]
    return f"{src['repo_name']} {src['path']} {_lines_text(m['source_lines'])}"


def line_range(lines: Sequence[str], first: int, last: int, units: Units) -> types.Range:
    """Whole lines first..last (1-based), from the first non-blank character."""
    top = min(max(first, 1), len(lines)) - 1
    bottom = min(max(last, first, 1), len(lines)) - 1
    head = lines[top]
    indent = units(head[: len(head) - len(head.lstrip())])
    return types.Range(
        start=types.Position(line=top, character=indent),
        end=types.Position(line=bottom, character=units(lines[bottom].rstrip("\r"))),
    )


def attributed(lines: Sequence[str], m: dict[str, Any]) -> bool:
    """True when an attribution comment naming the source sits just above the match."""
    first = m["query_lines"][0]
    needle = f"{COMMENT_LEAD} {m['source']['repo_name']} {m['source']['path']}"
    above = lines[max(first - 1 - LOOK_ABOVE, 0) : max(first - 1, 0)]
    return any(needle in line for line in above)


def diagnostic(
    lines: Sequence[str], m: dict[str, Any], options: Options, units: Units
) -> types.Diagnostic | None:
    """The diagnostic of a match (None when its license type is set to 'off')."""
    src = m["source"]
    severity = options.severity_of(src["license_type"])
    if severity is None:
        return None
    done = attributed(lines, m)
    if done:
        severity = types.DiagnosticSeverity.Hint
    pct = round(100 * float(m.get("coverage", 0.0)))
    message = (
        f"{'Attributed copy' if done else 'Copied code'}: {m['match_type']} match of "
        f"{where(m)} ({pct}% of the region, {m.get('copies', 1)} "
        f"{'copy' if m.get('copies', 1) == 1 else 'copies'}) · "
        f"{src['license']} ({src['license_type']})"
    )
    if who(src):
        message += f" · {who(src)}"
    return types.Diagnostic(
        range=line_range(lines, m["query_lines"][0], m["query_lines"][1], units),
        message=message,
        severity=severity,
        source=SOURCE,
        code=src["license"],
        data={"key": match_key(m)},
    )


def diagnostics(
    lines: Sequence[str], matches: list[dict[str, Any]], options: Options, units: Units
) -> list[types.Diagnostic]:
    out = [diagnostic(lines, m, options, units) for m in matches]
    return [d for d in out if d is not None]


def hover_text(m: dict[str, Any], url: str | None) -> str:
    """Markdown: the match, its source, license, authors and what reuse obliges."""
    src = m["source"]
    repo = f"[{src['repo_name']}]({url})" if url else src["repo_name"]
    lines = [
        f"**attribution**: {m['match_type']} copy · "
        f"{round(100 * float(m.get('coverage', 0.0)))}% of the region · "
        f"{m.get('copies', 1)} {'copy' if m.get('copies', 1) == 1 else 'copies'} indexed",
        "",
        f"**Source:** {repo} `{src['path']}` {_lines_text(m['source_lines'])}  ",
        f"**License:** {src['license']} ({src['license_type']})  ",
    ]
    if src.get("authors"):
        lines.append(f"**Authors:** {', '.join(src['authors'][:5])}  ")
    if src.get("copyright"):
        lines.append(f"**Copyright:** {'; '.join(src['copyright'][:3])}  ")
    lines.append(f"**SWHID:** `{src.get('swhid', '')}`")
    if src.get("obligations"):
        lines += ["", "**Obligations**", *[f"- {o}" for o in src["obligations"]]]
    if m.get("origins"):
        also = ", ".join(f"{o['repo_name']} `{o['path']}` ({o['license']})" for o in m["origins"])
        lines += ["", f"Also in: {also}"]
    return "\n".join(lines)


def attribution_comment(m: dict[str, Any], language: str, indent: str, url: str | None) -> str:
    """Comment lines to put above copied code, in the language's comment syntax."""
    src = m["source"]
    text = [f"{COMMENT_LEAD} {where(m)}" + (f" ({url})" if url else "")]
    text.append(f"License: {src['license']}" + (f". {who(src)}" if who(src) else ""))
    lang = LANGUAGES.get(language)
    if lang is not None and lang.line_comments:
        mark = lang.line_comments[0]
        return "".join(f"{indent}{mark} {t}\n" for t in text)
    start, end = lang.block_comments[0] if lang and lang.block_comments else ("/*", "*/")
    return f"{indent}{start} " + f"\n{indent}   ".join(text) + f" {end}\n"
