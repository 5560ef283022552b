"""Query results as text for people: the verdict first, then each match."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from attribution.core.explain import copies_text
from attribution.core.printable import printable, printable_all

if TYPE_CHECKING:
    from attribution.githooks.precommit import Report

_SYMBOL = {"exact": "=", "renamed": "≈", "near": "~"}
_COLOUR = {"permissive": "32", "weak-copyleft": "33", "copyleft": "31", "proprietary": "35"}


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _span(lines: list[int]) -> str:
    return f"line {lines[0]}" if lines[0] == lines[1] else f"lines {lines[0]}-{lines[1]}"


def render_match(m: dict[str, Any], colour: bool, origins: int = 3) -> list[str]:
    """A match as lines of text; `origins` other copies are listed with their lines."""
    m = printable_all(m)  # names, paths, authors come from indexed metadata
    src = m["source"]
    head = (
        f"  {_span(m['query_lines']):<12} {_SYMBOL.get(m['match_type'], '?')} "
        f"{_paint(src['repo_name'], '1', colour)}  {src['path']}  {_span(m['source_lines'])}   "
        f"{m['match_type']} · {round(100 * m['coverage'])}% of the snippet · {copies_text(m)}"
    )
    lic = _paint(
        f"{src['license']} ({src['license_type']})", _COLOUR.get(src["license_type"], "2"), colour
    )
    who = src["copyright"][:1] or src["authors"][:2]
    lines = [head, f"{'':15}{lic}" + (f" · {'; '.join(who)}" if who else "")]
    lines += [f"{'':15}{o}" for o in src.get("obligations", [])[:2]]
    if "compatibility" in m:
        c = m["compatibility"]
        verdict = {True: "compatible", False: "NOT compatible", None: "compatibility unknown"}
        lines.append(
            f"{'':15}{verdict[c['compatible']]} with {c['project_license']}: {c['reason']}"
        )
    return lines + _origins(m, origins)


def _origins(m: dict[str, Any], shown: int) -> list[str]:
    """The other copies, each with its own lines and license, and how many more there are."""
    listed = (m.get("origins") or [])[:shown]
    out = []
    for o in listed:
        where = f"  {_span(o['source_lines'])}" if "source_lines" in o else ""
        out.append(f"{'':15}also {o['repo_name']}  {o['path']}{where}  {o['license']}")
    rest = int(m.get("copies", 1)) - 1 - int(m.get("origins_offset", 0)) - len(listed)
    if rest > 0:
        out.append(f"{'':15}and {rest:,} more (check --origins all)")
    return out


def render_result(name: str, result: dict[str, Any], colour: bool = False, origins: int = 3) -> str:
    """The text answer of `check` for one query."""
    name, matches = printable(name), result["matches"]
    count = f"{len(matches)} match{'es' if len(matches) != 1 else ''}" if matches else "no match"
    out = [f"{name}: {count} ({result['elapsed_ms']:.0f} ms)"]
    for m in matches:
        out.append("")
        out.extend(render_match(m, colour, origins))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- check --staged / --diff
def render_report(report: Report, colour: bool) -> str:
    """One section per file with matches, a summary line, and what to do when blocked."""
    out = [
        render_result(f.change.path, f.result, colour) for f in report.files if f.result["matches"]
    ]
    out.append(_summary_line(report) + "\n")
    if report.blocking:
        out.append(_how_to_proceed(report))
    return "\n".join(out)


def _summary_line(report: Report) -> str:
    s = report.summary()
    what = "staged changes" if report.mode == "staged" else f"changes since {report.ref}"
    line = (
        f"attribution: {what}: {s['files_checked']} file{'s' * (s['files_checked'] != 1)} "
        f"checked ({s['added_lines']} added lines), "
        f"{s['matches']} match{'es' * (s['matches'] != 1)}"
    )
    if s["matches"]:
        line += f", {s['blocking']} blocking (policy: {report.policy.describe()})"
    if report.skipped:
        reasons: dict[str, int] = {}
        for item in report.skipped:
            reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        line += "; skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
    return line


def _how_to_proceed(report: Report) -> str:
    lines = [f"{len(report.blocking)} match(es) block this commit:"]
    licenses: list[str] = []
    for f, match in report.blocking:
        m, path = printable_all(match), printable(f.change.path)
        src = m["source"]
        a, b = m["query_lines"]
        who = "; ".join(src["copyright"][:1] or src["authors"][:2]) or "authors unknown"
        lines.append(
            f"  {path} lines {a}-{b}: copied from {src['repo_name']} {src['path']} "
            f"lines {m['source_lines'][0]}-{m['source_lines'][1]} · {src['license']} "
            f"({src['license_type']}) · {who}"
        )
        licenses.append(src["license"])
    allow = " ".join(f"--allow-license {shlex.quote(x)}" for x in dict.fromkeys(licenses))
    lines += [
        "To proceed, either:",
        "  - attribute it: keep the copyright notice and license text with the code (the "
        f"obligations are listed above), then allow its license: {allow}",
        "  - rewrite it in your own words and stage it again",
        f"  - allow it: add `{allow}` (or a looser --fail-on) to the hook's arguments, "
        "or skip the check once with `git commit --no-verify`",
    ]
    return "\n".join(lines) + "\n"
