"""The CSV report: one row per finding."""

from __future__ import annotations

import csv
from typing import TextIO

from attribution.scan.reports.common import findings, source_location
from attribution.scan.session import ScanResult

COLUMNS = (
    "path",
    "id",
    "query_start",
    "query_end",
    "repo_name",
    "source_path",
    "source_start",
    "source_end",
    "match_type",
    "tokens",
    "coverage",
    "score",
    "copies",
    "license",
    "license_type",
    "policy",
    "policy_rule",
    "policy_reason",
    "copyright",
    "authors",
    "url",
    "source_id",
    "blob_id",
)


def write(scan: ScanResult, out: TextIO) -> None:
    """Header and one row per finding (RFC 4180 quoting, `\\r\\n` line ends)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for f in findings(scan):
        m, s = f.match, f.source
        policy = m.get("policy", {})
        writer.writerow(
            [
                f.record.path,
                f.record.item_id or "",
                m["query_lines"][0],
                m["query_lines"][1],
                s["repo_name"],
                s["path"],
                m["source_lines"][0],
                m["source_lines"][1],
                m["match_type"],
                m["tokens"],
                m["coverage"],
                m["score"],
                m["copies"],
                s["license"],
                s["license_type"],
                policy.get("status", ""),
                policy.get("rule", ""),
                policy.get("reason", ""),
                " | ".join(s["copyright"]),
                " | ".join(s["authors"]),
                source_location(s),
                s["id"],
                s["blob_id"],
            ]
        )
