"""`attribution serve` and `attribution check --server URL` (client mode)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_web_corpus import TEXTWRAP, _attribution_command, built_index, server, snippet

from attribution.cli.main import main
from attribution.web.serve import bind_address, default_workers, options

__all__ = ["built_index", "server"]  # fixtures used here


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _attribution_command() + list(args), input=stdin, capture_output=True, text=True, timeout=60
    )


def test_served_page_and_api(server: str) -> None:
    with urllib.request.urlopen(server + "/healthz", timeout=10) as resp:
        assert json.loads(resp.read()) == {"status": "ok"}
    with urllib.request.urlopen(server + "/", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/html")


def test_check_against_a_server_prints_what_check_prints(server: str, built_index: Path) -> None:
    code = snippet(TEXTWRAP, 100, 140)
    remote = run_cli("check", "-", "--server", server, stdin=code)
    local = run_cli("check", "-", "--index", str(built_index), stdin=code)
    assert remote.returncode == local.returncode == 1, remote.stderr
    assert remote.stdout.splitlines()[2:] == local.stdout.splitlines()[2:]  # timing differs
    assert "textwrap.py" in remote.stdout and "MIT (permissive)" in remote.stdout


def test_check_against_a_server_json_and_exit_codes(server: str, tmp_path: Path) -> None:
    query = tmp_path / "snippet.py"
    query.write_text(snippet(TEXTWRAP, 100, 140))
    out = run_cli("check", str(query), "--server", server, "--format", "json", "--top", "1")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert result["verdict"] == "match" and len(result["matches"]) == 1
    clean = run_cli("check", "-", "--server", server, stdin="def add(a, b):\n    return a + b\n")
    assert clean.returncode == 0 and "no match" in clean.stdout
    bad = run_cli("check", str(query), "--server", server, "--language", "cobol")
    assert bad.returncode == 2
    assert bad.stderr.startswith("attribution: error:") and "unknown language 'cobol'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_check_server_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-", "--server", "ftp://example.invalid"]) == 2
    assert "http:// or https://" in capsys.readouterr().err
    assert main(["check", "/no/such/file.py", "--server", "http://127.0.0.1:9"]) == 2


def test_unreachable_server_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "q.py"
    query.write_text("x = 1\n")
    assert main(["check", str(query), "--server", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("attribution: error: cannot reach") and err.count("\n") == 1


def test_serve_refuses_a_missing_index(tmp_path: Path) -> None:
    out = run_cli("serve", "--index", str(tmp_path / "none"), "--port", "0")
    assert out.returncode == 2 and "MANIFEST.json" in out.stderr


def test_serve_options(built_index: Path) -> None:
    from attribution.web import create_app

    app: Any = create_app(built_index, env={}, batch_timeout_ms=60_000)
    opts = options(app, "::1", 0, None, None)
    assert opts["bind"] == "[::1]:0" and opts["preload_app"] is True
    assert opts["worker_class"] == "attribution.web.frontworker.FrontWorker"
    assert opts["workers"] == default_workers()
    assert opts["timeout"] >= 75  # longer than any query budget
    assert bind_address("127.0.0.1", 8000) == "127.0.0.1:8000"
