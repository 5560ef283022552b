"""`attribution lookup` and `attribution index remove` on the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_consent import SHLEX, TEXTWRAP, TW_QUERY, repos_answering, write_corpus

from attribution.cli.main import main
from attribution.index.build import build

CapSys = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("consent-cli")
    build([str(write_corpus(tmp / "corpus"))], tmp / "index", jobs=1)
    return tmp / "index"


@pytest.fixture
def idx(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "index")
    return tmp_path / "index"


def run(capsys: CapSys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_lookup_text_and_json(built: Path, capsys: CapSys) -> None:
    code, out, _ = run(capsys, "lookup", "--repo", "origin", "--index", str(built))
    assert code == 0
    assert out.startswith("repo 'origin': 3 sources in 1 repository")
    assert "\n  licenses: " in out and "\n    origin  textwrap.py\n" in out
    code, out, _ = run(capsys, "lookup", "--author", "Grace Hopper", "--index", str(built),
                       "--format", "json")  # fmt: skip
    answer = json.loads(out)
    assert answer["sources"] == 3 and "grace@navy.example" not in out
    code, out, _ = run(capsys, "lookup", "--author", "nobody", "--index", str(built))
    assert code == 0 and out == "author 'nobody': not in this index\n"


def test_lookup_by_path(built: Path, tmp_path: Path, capsys: CapSys) -> None:
    (tmp_path / "me").mkdir()
    (tmp_path / "me" / "tw.py").write_text(TEXTWRAP)
    code, out, _ = run(capsys, "lookup", "--path", str(tmp_path / "me"), "--index", str(built))
    assert code == 0 and "1 of your 1 file found" in out
    assert "me/tw.py  (identical) in 3 sources: origin, vendor-a, vendor-b" in out


def test_lookup_needs_exactly_one_rule(built: Path, capsys: CapSys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["lookup", "--repo", "a", "--author", "b", "--index", str(built)])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    code, _, err = run(capsys, "lookup", "--blob", "nothex", "--index", str(built))
    assert code == 2 and err.startswith("attribution: error: bad blob id 'nothex'")
    assert err.count("\n") == 1


def test_remove_follows_copies_and_says_so(idx: Path, capsys: CapSys) -> None:
    code, out, _ = run(capsys, "index", "remove", "--repo", "origin", "--index", str(idx))
    assert code == 0
    assert out == (
        "repo:origin: removed 6 sources (4 blobs, 4 repos), 3 of them copies of its content "
        "in 3 repositories (1 differing only in layout or comments)\n"
    )
    assert repos_answering(idx, TW_QUERY) == set()


def test_remove_no_follow_json(idx: Path, capsys: CapSys) -> None:
    code, out, _ = run(capsys, "index", "remove", "--repo", "origin", "--no-follow",
                       "--index", str(idx), "--format", "json")  # fmt: skip
    (removal,) = json.loads(out)["removed"]
    assert code == 0 and removal["sources"] == 3 and removal["copies"] == 0
    assert repos_answering(idx, TW_QUERY) == {"vendor-a", "vendor-b", "near"}


def test_remove_by_path_and_by_opt_out_list(idx: Path, tmp_path: Path, capsys: CapSys) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "shlex.py").write_text(SHLEX)
    code, out, _ = run(capsys, "index", "remove", "--path", str(tmp_path / "mine"),
                       "--index", str(idx))  # fmt: skip
    assert code == 0 and out.startswith(f"path:{tmp_path / 'mine'}: removed 1 sources")
    (tmp_path / "list.txt").write_text("# asked on 2026-11-20\nauthor: alan turing\n")
    code, out, _ = run(capsys, "index", "remove", "--opt-out", str(tmp_path / "list.txt"),
                       "--index", str(idx))  # fmt: skip
    # vendor-a's three files; not the copies of its vendored textwrap (origin's code)
    assert code == 0 and out == "author:alan turing: removed 3 sources (3 blobs, 1 repos)\n"
    log = (idx / "removals.jsonl").read_text().splitlines()
    assert [json.loads(line)["rule"] for line in log][-1] == "author:alan turing"


def test_remove_needs_a_rule(idx: Path, capsys: CapSys) -> None:
    code, _, err = run(capsys, "index", "remove", "--index", str(idx))
    assert code == 2 and "needs a --repo, --author, --blob, --path or --opt-out" in err
