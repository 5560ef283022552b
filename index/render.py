"""Query results as text for people: the verdict first, then each match."""

from __future__ import annotations

from typing import Any

_SYMBOL = {"exact": "=", "renamed": "≈", "near": "~"}
_COLOUR = {"permissive": "32", "weak-copyleft": "33", "copyleft": "31", "proprietary": "35"}


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _span(lines: list[int]) -> str:
    return f"line {lines[0]}" if lines[0] == lines[1] else f"lines {lines[0]}-{lines[1]}"


def render_match(m: dict[str, Any], colour: bool) -> list[str]:
    src = m["source"]
    head = (
        f"  {_span(m['query_lines']):<12} {_SYMBOL.get(m['match_type'], '?')} "
        f"{_paint(src['repo_name'], '1', colour)}  {src['path']}  {_span(m['source_lines'])}   "
        f"{m['match_type']} · {round(100 * m['coverage'])}% of the snippet · "
        f"{m['copies']} {'copy' if m['copies'] == 1 else 'copies'}"
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
    if m.get("origins"):
        more = ", ".join(f"{o['repo_name']}/{o['path']}" for o in m["origins"][:3])
        lines.append(f"{'':15}also in {more}")
    return lines


def render_result(name: str, result: dict[str, Any], colour: bool = False) -> str:
    """The text answer of `check` for one query."""
    matches = result["matches"]
    count = f"{len(matches)} match{'es' if len(matches) != 1 else ''}" if matches else "no match"
    out = [f"{name}: {count} ({result['elapsed_ms']:.0f} ms)"]
    for m in matches:
        out.append("")
        out.extend(render_match(m, colour))
    return "\n".join(out) + "\n"
