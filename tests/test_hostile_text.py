"""Hostile metadata: names, paths, authors holding terminal escapes are printed escaped by
`check`, `scan`, `lookup` and `index stats`; only http(s) links are ever rendered; ids
that parse are 200 or 404, never 500; deep JSON is refused with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_web_corpus import built_index

from attribution.core import jsondepth
from attribution.core.printable import printable, printable_all
from attribution.index.ingest import SourceFile, read_sources
from attribution.scan.jsonl import MAX_LINE_BYTES, read_outputs
from attribution.scan.records import Problem
from attribution.scan.reports.html import web_link

__all__ = ["built_index"]  # fixture used here
REPO = "evil\x1b]0;pwned\x07repo"
FILE = "x\x1b[2J\u202e.py"
AUTHOR = "Mal\x1b[31mlory\x9b0m"
DANGER = ("\x1b", "\x07", "\x9b", "\u202e")
CODE = Path(__file__).resolve().parents[1] / "attribution" / "core" / "printable.py"


def test_printable_escapes_controls_and_overrides_only() -> None:
    assert printable("a\x1b[2Jb\nc\u202ed") == "a\\x1b[2Jb\\x0ac\\u202ed"
    assert printable("naïve façade 日本 — ok") == "naïve façade 日本 — ok"
    assert printable_all({"k\x07": ["v\x9b", 3]}) == {"k\\x07": ["v\\x9b", 3]}


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An index of one repository whose name, file name and author hold escapes."""
    tmp = tmp_path_factory.mktemp("hostile")
    repo = tmp / "src" / REPO
    repo.mkdir(parents=True)
    (repo / FILE).write_bytes(CODE.read_bytes())
    meta = {"name": "evil", "author": AUTHOR, "repository": "javascript:alert(1)"}
    (repo / "package.json").write_text(json.dumps({**meta, "license": "MIT"}))
    query = tmp / "query.py"
    query.write_bytes(CODE.read_bytes())
    run("index", "build", str(tmp / "src"), "--index", str(tmp / "index"))
    return tmp / "index", query


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "attribution", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("check", "{query}", "--index", "{index}"),
        ("scan", "{query}", "--index", "{index}"),
        ("lookup", "--repo", REPO, "--index", "{index}"),
        ("index", "stats", "--index", "{index}"),
    ],
)
def test_commands_print_metadata_escaped(
    hostile_index: tuple[Path, Path], command: tuple[str, ...]
) -> None:
    index, query = hostile_index
    out = run(*(a.format(index=index, query=query) for a in command))
    assert not any(c in out for c in DANGER), out
    if command[0] in ("check", "scan"):
        assert "evil\\x1b]0;pwned\\x07repo" in out and "x\\x1b[2J\\u202e.py" in out
        assert "Mal\\x1b[31mlory\\x9b0m" in out
    if command[0] == "lookup":
        assert "evil\\x1b]0;pwned\\x07repo" in out


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/a", True),
        ("HTTP://example.org/", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("https:///no-host", False),
        ("http://exa\nmple.org/", False),
        ("vbscript:msgbox", False),
        (None, False),
    ],
)
def test_only_web_links_are_rendered(url: str | None, kept: bool) -> None:
    assert (web_link(url) is not None) is kept
    assert web_link(url) in (None, url)


def test_table_repo_urls_keep_only_web_links(tmp_path: Path) -> None:
    rows = {
        "content": ["def a():\n    return 1\n", "def b():\n    return 2\n"],
        "repo_name": ["r1", "r2"],
        "path": ["a.py", "b.py"],
        "repo_url": ["javascript:alert(1)", "https://example.org/r2"],
    }
    pq.write_table(pa.table(rows), tmp_path / "t.parquet")
    files = [i for i in read_sources(str(tmp_path / "t.parquet")) if isinstance(i, SourceFile)]
    assert {f.repo.name: f.repo.url for f in files} == {"r1": None, "r2": "https://example.org/r2"}


def test_app_js_renders_only_web_links() -> None:
    app_js = (CODE.parents[1] / "web" / "static" / "app.js").read_text()
    assert "link.href = src.url" not in app_js
    assert 'parsed.protocol === "http:" || parsed.protocol === "https:"' in app_js


def test_json_depth_is_measured_without_recursion() -> None:
    assert jsondepth.nesting_depth(b'{"a": "[[[[", "b": [1, [2]]}') == 3
    assert jsondepth.nesting_depth(b'["\\"[[[", {}]') == 2
    with pytest.raises(jsondepth.JsonTooDeep, match="nested 100000 levels"):
        jsondepth.loads("[" * 100_000 + "]" * 100_000)
    deep_but_allowed = "[" * 64 + "]" * 64
    assert jsondepth.loads(deep_but_allowed) is not None


def test_deeply_nested_model_output_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    good = json.dumps({"id": "ok", "code": "def f():\n    return 1\n"})
    path.write_text("[" * 200_000 + "\n" + good + "\n")
    items = list(read_outputs(str(path)))
    assert isinstance(items[0], Problem) and items[0].reason == "malformed"
    assert "nested" in items[0].detail and "\n" not in items[0].detail
    assert not isinstance(items[1], Problem) and items[1].item_id == "ok"


def test_a_line_past_the_cap_without_newline_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": 1, "code": "' + b"x" * (MAX_LINE_BYTES + 10))
    [problem] = list(read_outputs(str(path)))
    assert isinstance(problem, Problem) and "longer than" in problem.detail
    short = tmp_path / "short.jsonl"
    short.write_bytes(b'{"id": 1, "code": "' + b"x" * 5_000_000)  # 5 MB, no newline
    [problem] = list(read_outputs(str(short)))
    assert isinstance(problem, Problem) and len(problem.detail.splitlines()) == 1


def test_deeply_nested_table_row_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    row = {"content": "def a():\n    return 1\n", "repo_name": "r", "path": "a.py"}
    path.write_text('{"content": ' + "[" * 100_000 + "\n" + json.dumps(row) + "\n")
    items = list(read_sources(str(path)))
    assert [type(i).__name__ for i in items] == ["Skipped", "SourceFile"]
    assert "nested" in items[0].detail  # type: ignore[union-attr]


def test_parquet_columns_of_other_types_are_refused(tmp_path: Path) -> None:
    rows = {"content": [[["a"]]], "repo_name": ["r"], "path": ["a.py"]}
    pq.write_table(pa.table(rows), tmp_path / "t.parquet")
    [skip] = list(read_sources(str(tmp_path / "t.parquet")))
    assert skip.reason == "unreadable" and "column content has type" in skip.detail  # type: ignore[union-attr]


def test_parquet_declaring_a_bomb_is_refused(tmp_path: Path) -> None:
    rows = {"content": ["x" * 4_000_000], "repo_name": ["r"], "path": ["a.py"]}
    pq.write_table(pa.table(rows), tmp_path / "t.parquet", compression="zstd")
    [skip] = list(read_sources(str(tmp_path / "t.parquet")))
    assert skip.reason == "limit" and "max_ratio" in skip.detail  # type: ignore[union-attr]


def test_deep_json_body_and_out_of_range_id_over_http(built_index: Path) -> None:
    from attribution.web import create_app

    client = create_app(built_index, env={}).test_client()
    body = '{"code": ' + "[" * 50_000 + "]" * 50_000 + "}"
    resp = client.post("/v1/attribute", data=body, content_type="application/json")
    assert resp.status_code == 400 and "nested" in resp.get_json()["error"]["message"]
    for sid in ("s:ffffffffffffffff", "s:8000000000000000", "s:zz", "s:0000000000000000"):
        resp = client.get(f"/v1/sources/{sid}")
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
