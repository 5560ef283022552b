"""The on-disk index: build, add, remove, merge, stats, atomic writes and bad input."""

from __future__ import annotations

import inspect
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from attribution.cli.main import main
from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.format import MANIFEST_FILE, IndexFormatError, read_manifest
from attribution.index.maintain import merge, remove
from attribution.index.optout import OptOut
from attribution.index.stats import stats
from attribution.index.store import Index
from attribution.index.writer import IndexBusyError, locked

MIT = 'MIT License\n\nCopyright (c) 2020 Ada Lovelace\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n'  # noqa: E501


def module_text(name: str) -> str:
    __import__(name)
    return inspect.getsource(sys.modules[name])


def make_repo(root: Path, name: str, files: dict[str, str]) -> Path:
    repo = root / name
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    (repo / "LICENSE").write_text(MIT)
    return repo


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A directory of three repositories; `vendor-b` vendors textwrap from `alpha`."""
    root = tmp_path / "corpus"
    make_repo(
        root,
        "alpha",
        {"textwrap.py": module_text("textwrap"), "pkg/shlex.py": module_text("shlex")},
    )
    make_repo(root, "beta", {"src/json_decoder.py": module_text("json.decoder")})
    make_repo(
        root,
        "vendor-b",
        {"third_party/textwrap.py": module_text("textwrap"), "main.py": "print('hi')\n"},
    )
    return root


def snippet(name: str, start: int, end: int) -> str:
    return "\n".join(module_text(name).splitlines()[start - 1 : end]) + "\n"


def test_build_query_and_stats(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    report = build([str(corpus)], out, jobs=1)
    assert report.files == 5 and report.blobs == 4  # the vendored textwrap is one blob
    info = stats(out)
    assert info["sources"] == 5 and info["blobs"] == 4 and info["repos"] == 3
    assert info["licenses"] == {"MIT": 5}
    assert info["fingerprints"] > 0 and info["disk_bytes"]["total"] > 0
    with Index(out) as index:
        result = attribute(snippet("textwrap", 100, 140), index, language="python")
    top = result["matches"][0]
    assert top["copies"] == 2
    assert top["source"]["repo_name"] == "alpha" and top["source"]["license"] == "MIT"
    assert top["origins"][0]["path"] == "third_party/textwrap.py"
    assert top["source"]["authors"] and all("@" not in a for a in top["source"]["authors"])


def test_parallel_build_equals_serial_build(tmp_path: Path, corpus: Path) -> None:
    build([str(corpus)], tmp_path / "one", jobs=1)
    build([str(corpus)], tmp_path / "two", jobs=2)
    a, b = stats(tmp_path / "one"), stats(tmp_path / "two")
    for key in ("sources", "blobs", "tokens", "fingerprints", "licenses"):
        assert a[key] == b[key]


def test_format_round_trip_and_versions(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    build([str(corpus)], out, jobs=1)
    manifest = read_manifest(out)
    assert manifest["version"] == 1 and manifest["config"]["k"] > 0
    with Index(out) as index:
        blob = 0
        tokens = index.tokens(blob)
        content = index.content(blob)
        assert len(tokens) > 0 and int(tokens.end.max()) <= len(content)
    manifest["version"] = 99
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="format version 99; this program reads version 1"):
        Index(out)
    with pytest.raises(IndexFormatError, match="upgrade"):
        build([str(corpus)], out, jobs=1)  # never overwrite a newer index


def test_no_pickles_on_disk(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    build([str(corpus)], out, jobs=1)
    for npy in out.rglob("*.npy"):
        np.load(npy, allow_pickle=False)


def test_add_then_remove_then_merge(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    build([str(corpus / "alpha")], out, jobs=1)
    build([str(corpus / "beta"), str(corpus / "vendor-b")], out, jobs=1, replace=False)
    assert len(read_manifest(out)["segments"]) == 2
    query = snippet("textwrap", 100, 140)
    with Index(out) as index:
        assert attribute(query, index, language="python")["matches"][0]["copies"] == 2
    removed = remove(out, [("repo", "alpha")], follow=False)  # keep the vendored copy
    assert removed[0].sources == 2
    with Index(out) as index:  # removal takes effect at once
        top = attribute(query, index, language="python")["matches"][0]
        assert top["copies"] == 1 and top["source"]["repo_name"] == "vendor-b"
    assert stats(out)["sources"] == 3
    assert "alpha" in (out / "removals.jsonl").read_text()
    merge(out)
    manifest = read_manifest(out)
    assert len(manifest["segments"]) == 1 and manifest["deletions"] is None
    assert len(list((out / "segments").iterdir())) == 1  # old segments are gone
    info = stats(out)
    assert info["sources"] == 3 and info["blobs"] == 3 and info["deleted_sources"] == 0
    with Index(out) as index:
        top = attribute(query, index, language="python")["matches"][0]
        assert top["source"]["repo_name"] == "vendor-b"
    with Index(out) as index:
        assert (
            attribute(snippet("shlex", 20, 60), index, language="python")["verdict"] == "no_match"
        )


def test_remove_by_author_and_blob(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    build([str(corpus)], out, jobs=1)
    (r,) = remove(out, [("author", "ADA LOVELACE")])
    assert r.sources == 5
    assert stats(out)["sources"] == 0


def test_segments_built_elsewhere_merge(tmp_path: Path, corpus: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    build([str(corpus / "alpha")], a, jobs=1)
    build([str(corpus / "vendor-b")], b, jobs=1)
    other = b / "segments" / read_manifest(b)["segments"][0]
    merge(a, [other])
    info = stats(a)
    assert info["repos"] == 2 and info["sources"] == 4 and info["blobs"] == 3


def test_opt_out_list_at_build(tmp_path: Path, corpus: Path) -> None:
    rules = OptOut.parse("# people who asked\nrepo: beta\nauthor: ada lovelace\n")
    report = build([str(corpus)], tmp_path / "idx", jobs=1, opt_out=rules)
    assert report.opted_out == 5 and report.files == 0


def test_a_failed_build_leaves_the_previous_index(
    tmp_path: Path, corpus: Path, monkeypatch
) -> None:
    out = tmp_path / "idx"
    build([str(corpus / "alpha")], out, jobs=1)
    before = read_manifest(out)

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("attribution.index.segment.SegmentWriter.finish", explode)
    with pytest.raises(RuntimeError):
        build([str(corpus)], out, jobs=1)
    assert read_manifest(out) == before
    assert not [p for p in (out / "segments").iterdir() if p.name.startswith(".tmp")]
    with Index(out) as index:
        assert (
            attribute(snippet("textwrap", 100, 140), index, language="python")["verdict"] == "match"
        )


def test_a_killed_build_leaves_the_previous_index(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    build([str(corpus / "alpha")], out, jobs=1)
    before = read_manifest(out)
    big = tmp_path / "big"
    for i in range(400):
        make_repo(big, f"r{i}", {"m.py": module_text("textwrap").replace("TextWrapper", f"W{i}")})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "attribution",
            "index",
            "build",
            str(big),
            "--index",
            str(out),
            "--jobs",
            "1",
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    after = read_manifest(out)
    if after != before:  # the build won the race and finished: then it must be complete
        assert stats(out)["sources"] == 400
    else:
        with Index(out) as index:
            assert stats(out)["sources"] == 2
            assert attribute(snippet("textwrap", 100, 140), index)["verdict"] == "match"


def test_one_writer_at_a_time(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "idx"
    with locked(out), pytest.raises(IndexBusyError, match="being written by another process"):
        build([str(corpus)], out, jobs=1)


def test_bad_sources_are_skipped_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    good = make_repo(root, "good", {"a.py": module_text("textwrap")})
    (good / "one-line.js").write_text("var x=" + "1+" * 2_600_000 + "1;\n")  # 5 MB, one line
    (good / "blob.c").write_bytes(b"\x7fELF\x00\x00" + bytes(range(256)) * 10)
    (good / "deep.py").write_text("x = " + "(\n" * 3000 + "1" + "\n)" * 3000 + "\n")
    (root / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        for name, data in (("../escape.py", b"x = 1\n"), ("ok/fine.py", b"y = 2\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("ok/link.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (root / "evil.tar.gz").write_bytes(evil.getvalue())
    out = tmp_path / "idx"
    report = build([str(root)], out, jobs=1)
    assert report.files == 3  # a.py, deep.py, ok/fine.py
    assert report.skipped["unreadable"] == 1
    assert report.skipped["unsafe_path"] == 1 and report.skipped["symlink"] == 1
    assert report.skipped["binary"] == 1
    assert report.skipped.get("too_large", 0) + report.skipped.get("minified", 0) == 1
    assert stats(out)["skipped"] == report.skipped
    assert not (tmp_path / "escape.py").exists()


def test_cli_build_stats_check_exit_codes(tmp_path: Path, corpus: Path, capsys) -> None:
    out = str(tmp_path / "idx")
    assert main(["index", "build", str(corpus), "--index", out, "--jobs", "1"]) == 0
    assert main(["index", "stats", "--index", out, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"] == 5
    query = tmp_path / "completion.py"
    query.write_text(snippet("json.decoder", 30, 75))
    assert main(["check", str(query), "--index", out]) == 1
    text = capsys.readouterr().out
    assert text.startswith(f"{query}: 1 match") and "beta" in text and "MIT (permissive)" in text
    assert main(["check", str(query), "--index", out, "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "match"
    clean = tmp_path / "mine.py"
    clean.write_text(
        textwrap.dedent("""\
        def mean(xs):
            total = sum(xs)
            return total / len(xs) if xs else 0.0
    """)
    )
    assert main(["check", str(clean), "--index", out]) == 0
    empty = tmp_path / "empty.py"
    empty.write_text("")
    assert main(["check", str(empty), "--index", out]) == 2
    assert "empty query" in capsys.readouterr().err
    assert main(["check", str(clean), "--index", str(tmp_path / "nowhere")]) == 2
    assert "no index at" in capsys.readouterr().err
    assert main(["check", str(clean), "--index", out, "--language", "cobol"]) == 2
    assert "unknown language 'cobol'" in capsys.readouterr().err
