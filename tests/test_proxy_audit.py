"""The proxy's audit trail (one JSON line per answer, never code) and `attribution scan`
reporting on it in its formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openai
from test_check_staged_corpus import GPL_FUNCTION, MIT_FUNCTION, small_index
from test_proxy_upstream import ORIGINAL, RENAMED, Upstream, proxy_for, upstream

from attribution.index.store import Index
from attribution.scan.audit import is_audit
from attribution.scan.policyfile import load
from attribution.scan.session import ScanSettings, scan

__all__ = ["small_index", "upstream"]  # fixtures used here


def code_lines(*codes: str) -> set[str]:
    """Distinctive lines of code (long enough not to be a common word)."""
    return {line.strip() for code in codes for line in code.splitlines() if len(line.strip()) > 25}


def test_audit_lines_and_scan_reports(
    upstream: Upstream, small_index: Path, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    with proxy_for(upstream.url, small_index, audit=str(audit)) as url:
        c = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, timeout=20)
        for script, stream in (("verbatim", False), ("renamed", True), ("original", False)):
            answer = c.chat.completions.create(
                model="standin", messages=[{"role": "user", "content": script}], stream=stream
            )
            if stream:
                list(answer)
        c.chat.completions.create(
            model="standin",
            messages=[{"role": "user", "content": "two"}],
            extra_headers={"X-Request-Id": "client-7"},
        )
    text = audit.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(a["stream"], a["status"], len(a["blocks"])) for a in lines] == [
        (False, "complete", 1),
        (True, "complete", 1),
        (False, "complete", 1),
        (False, "complete", 2),
    ]
    first = lines[0]
    assert first["audit"] == "attribution.proxy/1" and first["model"] == "standin"
    assert first["request_id"].startswith("cmpl-standin-") and first["endpoint"] == "chat"
    assert lines[3]["client_request_id"] == "client-7"
    match = first["blocks"][0]["matches"][0]
    assert isinstance(match["source"]["id"], str) and match["source"]["id"]
    assert (match["source"]["license"], match["match_type"]) == ("MIT", "exact")
    assert lines[1]["blocks"][0]["matches"][0]["match_type"] == "renamed"
    assert lines[2]["blocks"][0]["verdict"] == "no_match"
    leaked = [
        line for line in code_lines(MIT_FUNCTION, RENAMED, ORIGINAL, GPL_FUNCTION) if line in text
    ]
    assert leaked == []  # never the code

    assert is_audit(str(audit))
    policy_file = tmp_path / "attribution.toml"
    policy_file.write_text('deny = ["copyleft"]\n')
    with Index(small_index) as index:
        settings = ScanSettings(progress=False, cache_dir=None)
        result = scan([str(audit)], index, settings, load(policy_file), str(policy_file))
        records = list(result.records())
        summary = result.summary
        result.close()
    assert summary.files == 5 and summary.findings == 4  # original has none
    assert summary.violations == 1 and summary.by_license == {"MIT": 3, "GPL-3.0-or-later": 1}
    assert {r.kind for r in records} == {"snippet"}
    assert records[0].path == f"{audit}#{first['request_id']}/0.0"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "attribution",
            "scan",
            str(audit),
            "--index",
            str(small_index),
            "--format",
            "sarif",
            "--no-cache",
            "--no-policy",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # findings
    sarif = json.loads(done.stdout)
    assert len(sarif["runs"][0]["results"]) == 4
