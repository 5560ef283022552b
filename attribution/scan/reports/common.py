"""What every report needs: the findings of a scan, rules, locations and the tool's name."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any, Protocol

from attribution.core.policy import REVIEW, VIOLATION
from attribution.scan.records import FileRecord
from attribution.scan.session import TOOL_NAME, TOOL_URL, ScanResult


class SourceText(Protocol):
    """Lines of an indexed source, for excerpts (None when the source is gone)."""

    def __call__(self, source_id: str, first: int, last: int) -> str | None: ...


@dataclass(frozen=True)
class Finding:
    """One match of one scanned file that the policy did not leave out."""

    record: FileRecord
    number: int  # index of the match in the record's result
    match: dict[str, Any]

    @property
    def source(self) -> dict[str, Any]:
        return dict(self.match["source"])

    @property
    def status(self) -> str:
        return str(self.match.get("policy", {}).get("status", "unreviewed"))

    @property
    def excerpt(self) -> str:
        ex = self.record.excerpts
        return ex[self.number] if self.number < len(ex) else ""


def findings(scan: ScanResult) -> Iterator[Finding]:
    """Every finding of a scan, in scan order."""
    for record in scan.records():
        for number, match in record.findings():
            yield Finding(record, number, match)


@cache
def tool_version() -> str:
    try:
        return metadata.version(TOOL_NAME)
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0.0.0"


def tool_info() -> dict[str, str]:
    return {"name": TOOL_NAME, "version": tool_version(), "url": TOOL_URL}


@dataclass(frozen=True)
class Rule:
    """A SARIF rule: one per license type, or one per policy rule that judged a finding."""

    id: str
    name: str
    description: str
    level: str  # error | warning | note


_TYPE_TEXT = {
    "permissive": "Code matching permissive-licensed source: keep its notice",
    "weak-copyleft": "Code matching weak-copyleft source: file-level conditions apply",
    "copyleft": "Code matching copyleft source: the whole work may have to follow its license",
    "proprietary": "Code matching source under a proprietary or non-commercial license",
    "unknown": "Code matching source whose license is unknown",
}
_LEVEL = {
    "permissive": "note",
    "weak-copyleft": "warning",
    "copyleft": "warning",
    "proprietary": "error",
    "unknown": "warning",
}


def rule_of(f: Finding) -> Rule:
    """The rule a finding is reported under: its policy rule when it broke the policy or needs
    a review, else its license type."""
    policy = f.match.get("policy")
    if policy and policy["status"] in (VIOLATION, REVIEW):
        level = "error" if policy["status"] == VIOLATION else "warning"
        rule = policy["rule"]
        return Rule(
            f"policy/{rule}", _camel(rule), f"License policy: {rule.replace('-', ' ')}", level
        )
    kind = f.source["license_type"]
    return Rule(
        f"license/{kind}",
        _camel(f"{kind}-code"),
        _TYPE_TEXT.get(kind, kind),
        _LEVEL.get(kind, "note"),
    )


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in text.replace("/", "-").split("-"))


def source_location(source: dict[str, Any]) -> str:
    """Where an indexed source lives: `repo/path`, with the repository's URL when known."""
    where = f"{source['repo_name']}/{source['path']}"
    url = source.get("url")
    return f"{where} ({url})" if url else where


def artifact_uri(path: str) -> str:
    """A scanned path as a SARIF/SPDX-friendly URI reference (relative when it is)."""
    if os.path.isabs(path):
        return "file://" + urllib.parse.quote(path)
    return urllib.parse.quote(path.replace(os.sep, "/"))


def one_line(f: Finding) -> str:
    """A finding in one sentence (SARIF message, CSV, notice)."""
    m, s = f.match, f.source
    q, sl = m["query_lines"], m["source_lines"]
    who = "; ".join(s.get("copyright", [])[:1]) or ", ".join(s.get("authors", [])[:2])
    text = (
        f"Lines {q[0]}-{q[1]} match {s['repo_name']} {s['path']} lines {sl[0]}-{sl[1]} "
        f"({m['match_type']}, {m['tokens']} tokens, score {m['score']:.2f}), "
        f"licensed {s['license']} ({s['license_type']})"
    )
    if who:
        text += f", {who}"
    policy = m.get("policy")
    if policy:
        text += f". Policy: {policy['status']}: {policy['reason']}"
    return text + "."
