"""Redaction in linear time with a budget per request (core/redact.py, web/excerpt.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attribution.core import redact as redact_module
from attribution.core.redact import CHUNK, Budget, redact, redact_counted

GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
# The crafted file of issue 17: lines like "token"+"x"*990, 49 s of CPU before
CRAFTED = ('"token"+"' + "x" * 990 + '"\n') * 990 + f'API_KEY = "{GITHUB}"\n'
KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "".join("MIIEowIBAAKCAQEA1234567890abcdefghijklmnopqrstuvwxyzABCDEFGH\n" for _ in range(30))
    + "-----END RSA PRIVATE KEY-----\n"
)


def test_chunked_redaction_equals_whole_redaction_across_chunk_edges() -> None:
    """A key block and a token straddling each chunk edge are hidden as in one pass."""
    filler = "x = 1\n" * (CHUNK // 6 - 40)
    text = (filler + KEY + f"token = '{GITHUB}'\n") * 3 + "contact: jane.roe@example.org\n"
    out = redact(text, Budget())
    assert out == redact(text)
    assert "MIIEowIBAAKCAQEA" not in out and GITHUB not in out
    assert out.count("\n") == text.count("\n")


def test_past_the_character_budget_lines_are_withheld_not_shown() -> None:
    text = "a = 1\nb = 2\n" + f"token = '{GITHUB}'\n" * 5 + "last line"
    out, counts = redact_counted(text, Budget(chars=12))
    lines = out.split("\n")
    assert lines[:2] == ["a = 1", "b = 2"]
    assert lines[2:] == ["[REDACTED:withheld]"] * 6
    assert counts == {"withheld": 6} and GITHUB not in out
    assert out.count("\n") == text.count("\n")
    assert redact(out) == out  # the marker is a placeholder like the others


def test_a_spent_time_budget_withholds_the_rest(monkeypatch: Any) -> None:
    """The CPU clock is checked between chunks: once spent, no further chunk is shown."""
    clock = iter([0.0, 0.0, 5.0, 5.0, 5.0])
    monkeypatch.setattr(redact_module.time, "thread_time", lambda: next(clock))
    text = ("y = 2\n" * (CHUNK // 6)) * 3
    out, counts = redact_counted(text, Budget(seconds=1.0))
    assert out.split("\n")[0] == "y = 2"  # the first chunk was redacted and shown
    assert out.rstrip("\n").endswith("[REDACTED:withheld]")
    assert 0 < counts["withheld"] < text.count("\n")
    assert out.count("\n") == text.count("\n")


def test_the_crafted_file_is_redacted_whole_within_the_default_budget() -> None:
    out, counts = redact_counted(CRAFTED, Budget())
    assert counts == {"github_token": 1}
    assert out.count("\n") == CRAFTED.count("\n")


@pytest.fixture
def crafted_client(tmp_path: Path) -> Any:
    from attribution.index.build import build
    from attribution.index.codec import source_id
    from attribution.index.store import Index
    from attribution.web import create_app

    (tmp_path / "src" / "r").mkdir(parents=True)
    (tmp_path / "src" / "r" / "crafted.py").write_text(CRAFTED)
    report = build([str(tmp_path / "src")], tmp_path / "idx", jobs=1)
    assert report.files == 1, report
    with Index(tmp_path / "idx") as index:
        ((sid,),) = index.segments[0].db.execute("SELECT sid FROM sources").fetchall()
    client = create_app(tmp_path / "idx", admin_token="admin", env={}).test_client()
    return client, source_id(sid)


def test_get_source_on_the_crafted_file_answers_redacted(crafted_client: Any) -> None:
    client, sid = crafted_client
    body = client.get(f"/v1/sources/{sid}?lines=985-991").get_json()
    assert body["lines"] == [985, 991] and body["total_lines"] == 991
    assert body["redactions"] == {"github_token": 1}
    assert GITHUB not in body["excerpt"] and body["excerpt"].count("\n") == 7


def test_get_source_past_its_budget_withholds_lines(crafted_client: Any, monkeypatch: Any) -> None:
    from attribution.web import excerpt

    monkeypatch.setattr(excerpt, "REDACTION_BUDGET", Budget(chars=50_000))
    client, sid = crafted_client
    body = client.get(f"/v1/sources/{sid}?lines=980-991").get_json()
    assert body["lines"] == [980, 991]
    assert body["excerpt"].split("\n")[:-1] == ["[REDACTED:withheld]"] * 12
    assert body["redactions"] == {"withheld": 12} and GITHUB not in body["excerpt"]
