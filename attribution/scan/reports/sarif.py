"""SARIF 2.1.0: one rule per license type or policy rule; each result at the query region,
with the matched source as a related location and the license in the message."""

from __future__ import annotations

import json
from typing import Any, TextIO

from attribution.scan.reports.common import (
    Finding,
    Rule,
    artifact_uri,
    findings,
    one_line,
    rule_of,
    source_location,
    tool_info,
)
from attribution.scan.session import ScanResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"


def build(scan: ScanResult) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rules: dict[str, tuple[int, Rule]] = {}
    results = []
    for f in findings(scan):
        rule = rule_of(f)
        if rule.id not in rules:
            rules[rule.id] = (len(rules), rule)
        results.append(_result(f, rule, rules[rule.id][0]))
    info = tool_info()
    driver = {
        "name": info["name"],
        "version": info["version"],
        "informationUri": info["url"],
        "rules": [_rule(r) for _, r in rules.values()],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [_invocation(scan)],
        "results": results,
        "properties": {"summary": scan.summary.to_json(scan.policy)},
    }
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.description},
        "defaultConfiguration": {"level": rule.level},
        "helpUri": "https://spdx.org/licenses/",
    }


def _region(lines: list[int]) -> dict[str, int]:
    return {"startLine": int(lines[0]), "endLine": int(lines[1])}


def _location(f: Finding) -> dict[str, Any]:
    """The query region; a model output is located at its JSON Lines line, by its id."""
    record, m = f.record, f.match
    if record.kind == "snippet":
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(record.path.rsplit("#", 1)[0])},
                "region": {"startLine": int(record.line or 1)},
            },
            "logicalLocations": [{"name": str(record.item_id), "kind": "object"}],
        }
    else:
        location = {
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(record.path)},
                "region": _region(m["query_lines"]),
            }
        }
    return location


def _result(f: Finding, rule: Rule, rule_index: int) -> dict[str, Any]:
    m, s = f.match, f.source
    related = {
        "id": 1,
        "physicalLocation": {
            "artifactLocation": {"uri": _source_uri(s)},
            "region": _region(m["source_lines"]),
        },
        "message": {"text": f"{source_location(s)}, licensed {s['license']}"},
    }
    return {
        "ruleId": rule.id,
        "ruleIndex": rule_index,
        "level": rule.level,
        "message": {"text": one_line(f)},
        "locations": [_location(f)],
        "relatedLocations": [related],
        "partialFingerprints": {"matchedBlob/v1": f"{s['blob_id']}:{m['source_lines'][0]}"},
        "properties": {
            "license": s["license"],
            "licenseType": s["license_type"],
            "matchType": m["match_type"],
            "tokens": m["tokens"],
            "coverage": m["coverage"],
            "score": m["score"],
            "copies": m["copies"],
            "source": s,
            "policy": m.get("policy"),
        },
    }


def _source_uri(source: dict[str, Any]) -> str:
    """The matched file's content by its Software Heritage id (its repository URL, when
    known, is in the message and properties)."""
    return f"swh:1:cnt:{source['blob_id']}"


def _invocation(scan: ScanResult) -> dict[str, Any]:
    return {
        "executionSuccessful": True,
        "startTimeUtc": scan.started,
        "commandLine": "attribution scan " + " ".join(scan.paths),
        "toolExecutionNotifications": [
            {
                "level": "warning",
                "message": {"text": f"{p.reason}: {p.detail}"},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(p.path)}}}
                ],
            }
            for p in scan.summary.problems[:200]
        ],
    }


def write(scan: ScanResult, out: TextIO) -> None:
    json.dump(build(scan), out, indent=2)
    out.write("\n")
