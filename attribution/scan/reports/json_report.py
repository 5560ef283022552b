"""The JSON report: the scan's summary, then every scanned file with its SPEC result."""

from __future__ import annotations

import json
from typing import Any, TextIO

from attribution.scan.records import FileRecord
from attribution.scan.reports.common import tool_info
from attribution.scan.session import ScanResult

FORMAT_VERSION = 1


def header(scan: ScanResult) -> dict[str, Any]:
    """Everything but the files: tool, index, policy, summary."""
    policy = scan.policy
    return {
        "format": "attribution-scan",
        "version": FORMAT_VERSION,
        "tool": tool_info(),
        "started": scan.started,
        "paths": list(scan.paths),
        "index": scan.index_info(),
        "policy": None if policy is None else {"file": scan.policy_file, **vars(policy)},
        "summary": scan.summary.to_json(policy),
    }


def file_entry(record: FileRecord) -> dict[str, Any]:
    """One scanned file (or model output) and its result."""
    entry: dict[str, Any] = {"path": record.path, "kind": record.kind, "blob_id": record.sha}
    if record.kind == "snippet":
        entry.update({"id": record.item_id, "line": record.line})
    entry["cached"] = record.cached
    entry["result"] = record.result
    return entry


def write(scan: ScanResult, out: TextIO) -> None:
    """Stream the report: the header object with a `files` array written one file at a time."""
    head = json.dumps(header(scan), indent=2, default=list)
    out.write(head[:-2] + ',\n  "files": [')
    for n, record in enumerate(scan.records()):
        out.write(("," if n else "") + "\n    " + json.dumps(file_entry(record)))
    out.write("\n  ]\n}\n")
