"""What a client sees of an attributed block: the `attribution` entry, OpenAI citation
annotations, a Markdown "Sources" note (footnote mode) and the notice that replaces a block
the policy denies (block mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attribution.core.policy import VIOLATION, Policy

MAX_NOTED = 3  # matches listed in a footnote or a notice
Urls = Callable[[dict[str, Any]], str]


def judge(matches: list[dict[str, Any]], policy: Policy | None) -> bool:
    """Mark each match with the policy's decision (as `scan` does); True when one is denied."""
    if policy is None:
        return False
    denied = False
    for m in matches:
        d = policy.decide(m)
        m["policy"] = {"status": d.status, "rule": d.rule, "reason": d.reason}
        denied = denied or d.status == VIOLATION
    return denied


def entry(
    choice: int,
    number: int,
    tag: str | None,
    content_range: list[int] | None,
    result: dict[str, Any] | None,
    error: str | None = None,
) -> dict[str, Any]:
    """One item of the `attribution` list (SPEC: choice, block, language, content_range,
    verdict, matches); a block that could not be attributed has verdict `error`."""
    out: dict[str, Any] = {"choice": choice, "block": number}
    if result is None:
        out.update(language=tag, content_range=content_range, verdict="error", matches=[])
        out["error"] = error or "not attributed"
        return out
    out.update(
        language=result["query"]["language"],
        content_range=content_range,
        verdict=result["verdict"],
        matches=result["matches"],
        lines=result["query"]["lines"],
        tokens=result["query"]["tokens"],
        elapsed_ms=result.get("elapsed_ms"),
    )
    return out


def title(match: dict[str, Any]) -> str:
    """`repository path lines a-b (license)`."""
    s = match["source"]
    a, b = match["source_lines"]
    return f"{s['repo_name']} {s['path']} lines {a}-{b} ({s['license']})"


def citations(item: dict[str, Any], code: str, urls: Urls) -> list[dict[str, Any]]:
    """One `url_citation` per match, over the matched lines of the block in the content."""
    if item.get("content_range") is None:
        return []
    start, end = item["content_range"]
    starts = _line_starts(code)
    out = []
    for m in item["matches"]:
        if item.get("blocked"):
            a, b = start, end
        else:
            first, last = m["query_lines"]
            a = start + starts[min(first - 1, len(starts) - 1)]
            b = start + (starts[last] if last < len(starts) else len(code))
            a, b = min(a, end), min(b, end)
        citation = {"start_index": a, "end_index": b, "url": urls(m), "title": title(m)}
        out.append({"type": "url_citation", "url_citation": citation})
    return out


def _line_starts(code: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(code):
        if ch == "\n" and i + 1 < len(code):
            starts.append(i + 1)
    return starts


def _how(match: dict[str, Any]) -> str:
    return f"{match['match_type']} copy, {round(100 * match['coverage'])}% of the block"


def footnote(item: dict[str, Any], urls: Urls, after_newline: bool) -> str:
    """The Markdown "Sources" note put after an attributed block ("" when none matched)."""
    matches = item["matches"][:MAX_NOTED]
    if not matches:
        return ""
    lines = ["", "**Sources** (attribution):"]
    for m in matches:
        s = m["source"]
        a, b = m["source_lines"]
        where = f"{s['repo_name']} · `{s['path']}` lines {a}-{b}"
        lines.append(f"- [{where}]({urls(m)}) · {s['license']} · {_how(m)}")
    more = len(item["matches"]) - len(matches)
    if more:
        lines.append(f"- and {more} more")
    return ("" if after_newline else "\n") + "\n".join(lines) + "\n\n"


def notice(item: dict[str, Any], urls: Urls) -> str:
    """What replaces a block the policy denies: the sources, their licenses and why."""
    denied = [m for m in item["matches"] if m.get("policy", {}).get("status") == VIOLATION]
    lines = ["> **Code withheld by the attribution policy.** It matches:"]
    for m in denied[:MAX_NOTED]:
        s = m["source"]
        a, b = m["source_lines"]
        lines.append(
            f"> - [{s['repo_name']} `{s['path']}` lines {a}-{b}]({urls(m)}) under "
            f"{s['license']} ({s['license_type']}): {m['policy']['reason']}"
        )
    return "\n".join(lines) + "\n"
