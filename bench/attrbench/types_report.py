"""The "Match types" section of docs/benchmarks.md: the confusion matrix of reported match
types (bench/match_types.py's bench/results/match_types.json), the classifier before the
change in brackets, and the same figures on a second query set (match_types-s2.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrbench.report import pct, table

KINDS = ("exact", "renamed", "near")


def expected(transform: str) -> str:
    """The type a transformation should be reported as."""
    if transform == "type2":
        return "renamed"
    return "near" if transform.startswith("type3") else "exact"


def _share(matrix: dict[str, dict[str, int]], transform: str) -> float:
    got = matrix.get(transform, {})
    return got.get(expected(transform), 0) / max(1, sum(got.values()))


def _run(report: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(report["started"], UTC).strftime("%Y-%m-%d %H:%M")
    return f"run {when} UTC, load average {report['load_average'][0]:.1f}"


def _rows(report: dict[str, Any]) -> list[list[str]]:
    now, before = report["now"]["matrix"], report["before"]["matrix"]
    rows = []
    for transform, got in now.items():
        was = before.get(transform, {})
        cells = [f"{got.get(k, 0)} ({was.get(k, 0)})" for k in KINDS]
        right = f"{pct(_share(now, transform))} ({pct(_share(before, transform))})"
        rows.append([transform, expected(transform), *cells, right])
    return rows


def _second(report: dict[str, Any]) -> str:
    now, before = report["now"], report["before"]
    return (
        f"On a second query set the rules were not developed on ("
        f"{report['queries'].rsplit('/', 1)[-1]}, made as seed 1's with seed 2, against the "
        "seed-2 split's index, "
        f"{now['found']:,} found, {_run(report)}): right {pct(now['share'])} (before "
        f"{pct(before['share'])}); type2 called `renamed` "
        f"{pct(_share(now['matrix'], 'type2'))} ({pct(_share(before['matrix'], 'type2'))}), "
        + ", ".join(
            f"{t} called `near` {pct(_share(now['matrix'], t))} "
            f"({pct(_share(before['matrix'], t))})"
            for t in now["matrix"]
            if t.startswith("type3")
        )
        + " (`bench/results/match_types-s2.json`).\n"
    )


def section(report: dict[str, Any], second: dict[str, Any] | None = None) -> str:
    """The section's markdown."""
    now, before, evidence = report["now"], report["before"], report["evidence"]
    text = (
        "## Match types\n"
        f"Reported type against the transformation's, over the {now['found']:,} positive "
        f"queries whose source was found ({report['queries'].rsplit('/', 1)[-1]}, "
        f"`bench/match_types.py`, {_run(report)}; the type does not depend on the machine). "
        "In brackets, on the same matches in the same run, the classifier before the change "
        f"(commit {str(report['before_commit'])[:7]}). Right: {pct(now['share'])} (before: "
        f"{pct(before['share'])}; the evidence spans alone: {pct(evidence['share'])}). The "
        "rules are stated in `attribution/core/matchtype.py`'s docstring; the queries still "
        "wrong are listed in `bench/results/match_types.json` (`wrong`).\n\n"
        + table(["transform", "expected", *KINDS, "right"], _rows(report))
        + "\n"
    )
    return text + ("\n" + _second(second) if second else "")
