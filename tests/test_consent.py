"""Consent: "is my code in here?" (lookup) and opt-outs that follow copies (remove).

The corpus: `origin` holds textwrap and shlex; `vendor-a` and `vendor-b` vendor origin's
textwrap byte for byte; `near` holds it with other comments and blank lines (the same
tokens); every repository has the same one-line `__init__.py` (content everybody shares).
"""

from __future__ import annotations

import inspect
import itertools
import json
import shlex
import shutil
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.format import read_manifest
from attribution.index.lookup import RuleError, by_blobs, find, lookup
from attribution.index.maintain import enforce, merge, remove
from attribution.index.optout import OptOut
from attribution.index.stats import stats
from attribution.index.store import Index

TEXTWRAP = inspect.getsource(textwrap)
SHLEX = inspect.getsource(shlex)
NEAR = "# Vendored; reformatted by our tools.\n\n" + TEXTWRAP.replace("\n\n\n", "\n\n\n# --\n\n")
DECODER = inspect.getsource(json.decoder)
MIT = "MIT License\n\nCopyright (c) {year} {who}\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software, to deal in the Software without restriction.\n"  # noqa: E501
INIT = "__version__ = '1.0'\n"
PYPROJECT = '[project]\nname = "origin"\nauthors = [{name = "Grace Hopper", email = "grace@navy.example"}]\n'  # noqa: E501
OWNERS = {
    "origin": "Grace Hopper",
    "vendor-a": "Alan Turing",
    "vendor-b": "Ada Lovelace",
    "near": "Edsger Dijkstra",
}


def write_repo(root: Path, name: str, files: dict[str, str]) -> None:
    for path, text in {**files, "pkg/__init__.py": INIT}.items():
        (root / name / path).parent.mkdir(parents=True, exist_ok=True)
        (root / name / path).write_text(text)
    (root / name / "LICENSE").write_text(MIT.format(year=2021, who=OWNERS[name]))
    if name == "origin":
        (root / name / "pyproject.toml").write_text(PYPROJECT)


def write_corpus(root: Path) -> Path:
    write_repo(root, "origin", {"textwrap.py": TEXTWRAP, "shlex.py": SHLEX})
    write_repo(root, "vendor-a", {"third_party/textwrap.py": TEXTWRAP, "app.py": DECODER})
    write_repo(root, "vendor-b", {"lib/textwrap.py": TEXTWRAP, "main.py": "print('hi')\n"})
    write_repo(root, "near", {"ext/tw.py": NEAR})
    return root


def lines(text: str, a: int, b: int) -> str:
    return "\n".join(text.splitlines()[a - 1 : b]) + "\n"


TW_QUERY = lines(TEXTWRAP, 100, 140)
SHLEX_QUERY = lines(SHLEX, 130, 170)
DECODER_QUERY = lines(DECODER, 60, 100)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("consent")
    corpus = write_corpus(tmp / "corpus")
    report = build([str(corpus)], tmp / "index", jobs=1)
    assert report.files == 11
    return tmp / "index"


@pytest.fixture
def idx(built: Path, tmp_path: Path) -> Path:
    """A private copy of the index, for tests that change it."""
    shutil.copytree(built, tmp_path / "index")
    return tmp_path / "index"


def repos_answering(root: Path, query: str) -> set[str]:
    """Every repository any match of the query names (sources and origins)."""
    with Index(root) as index:
        result = attribute(query, index, language="python")
    out = set()
    for m in result["matches"]:
        out.add(m["source"]["repo_name"])
        out |= {o["repo_name"] for o in m["origins"]}
    return out


def consistent(root: Path) -> dict[str, Any]:
    """Check the index's invariants; returns its stats."""
    info = stats(root)
    with Index(root) as index:
        live_blobs: set[str] = set()
        sources = 0
        for seg in index.segments:
            rows = seg.db.execute(
                "SELECT s.sid, b.blob_id FROM sources s JOIN blobs b ON b.local = s.blob_local"
            ).fetchall()
            sources += sum(not index.is_deleted(sid) for sid, _ in rows)
            live_blobs |= {blob for sid, blob in rows if not index.is_deleted(sid)}
            n = seg.n_blobs
            assert seg.db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == n
            assert seg.token_off.shape[0] == seg.content_off.shape[0] == n + 1
            for view in ("exact", "abstract"):
                assert int(np.max(seg.fp_blob[view], initial=0)) < n
            assert int(np.max(seg.sketch_blob, initial=0)) < max(n, 1)
        assert info["sources"] == sources and info["blobs"] == len(live_blobs)
    return info


def orphans(root: Path) -> int:
    """Stored blobs that no source (live or removed) holds."""
    with Index(root) as index:
        return sum(
            seg.db.execute(
                "SELECT COUNT(*) FROM blobs WHERE local NOT IN (SELECT blob_local FROM sources)"
            ).fetchone()[0]
            for seg in index.segments
        )


# --- removal follows content -----------------------------------------------------------------
def test_removing_a_repository_removes_its_vendored_copies_before_and_after_merge(
    idx: Path,
) -> None:
    assert repos_answering(idx, TW_QUERY) == {"origin", "vendor-a", "vendor-b", "near"}
    before = consistent(idx)
    (r,) = remove(idx, [("repo", "origin")])
    # origin's 4 sources, 2 vendored copies and 1 copy with other comments and layout
    assert (r.copies, r.copy_repos, r.near_copies) == (3, 3, 1)
    assert r.sources == 3 + 3  # textwrap.py, shlex.py, pkg/__init__.py and the copies
    for state in ("removed", "merged"):
        assert repos_answering(idx, TW_QUERY) == set(), state
        assert repos_answering(idx, SHLEX_QUERY) == set(), state
        assert repos_answering(idx, DECODER_QUERY) == {"vendor-a"}, state  # its own code stays
        info = consistent(idx)
        assert info["sources"] == before["sources"] - r.sources
        assert info["repos"] == 3  # vendor-a and vendor-b keep main.py, app.py, __init__.py
        with Index(idx) as index:
            assert lookup(index, "repo", "origin")["indexed"] is False
            assert not find(index, "blob", _blob_of(TEXTWRAP))
        if state == "removed":
            merge(idx)
    assert read_manifest(idx)["deletions"] is None and orphans(idx) == 0
    assert stats(idx)["deleted_sources"] == 0


def _blob_of(text: str) -> str:
    from attribution.index.codec import blob_id

    return blob_id(text.encode())


def test_no_follow_removes_only_the_named_sources(idx: Path) -> None:
    (r,) = remove(idx, [("repo", "origin")], follow=False)
    assert (r.sources, r.copies) == (3, 0)
    assert repos_answering(idx, TW_QUERY) == {"vendor-a", "vendor-b", "near"}


def test_content_everybody_shares_is_not_followed(idx: Path) -> None:
    remove(idx, [("repo", "origin")])
    with Index(idx) as index:
        empty = lookup(index, "blob", _blob_of(INIT))
    assert empty["repos"] and {r["name"] for r in empty["repos"]} == {
        "vendor-a",
        "vendor-b",
        "near",
    }


def test_a_repositorys_vendored_files_are_not_its_own(idx: Path) -> None:
    (r,) = remove(idx, [("repo", "vendor-a")])
    assert r.copies == 0  # its third_party/textwrap.py is origin's: the others keep theirs
    assert repos_answering(idx, TW_QUERY) == {"origin", "vendor-b", "near"}


def test_removing_an_author_follows_their_code_and_is_case_insensitive(idx: Path) -> None:
    (r,) = remove(idx, [("author", "GRACE@navy.EXAMPLE")])
    assert r.copies == 3 and repos_answering(idx, TW_QUERY) == set()


def test_removing_a_blob_and_a_path(idx: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "shlex.py").write_text(SHLEX)
    (r,) = remove(idx, [("path", str(mine))])
    assert r.sources == 1 and repos_answering(idx, SHLEX_QUERY) == set()
    (r,) = remove(idx, [("blob", "swh:1:cnt:" + _blob_of(TEXTWRAP))])
    assert (r.sources, r.copies, r.near_copies) == (4, 1, 1)  # 3 identical files, 1 near copy
    with pytest.raises(RuleError, match="40 hex digits"):
        remove(idx, [("blob", "xyz")])


def test_removals_are_logged_without_the_code(idx: Path) -> None:
    remove(idx, [("repo", "origin")])
    remove(idx, [("repo", "vendor-b")], follow=False)
    log = [json.loads(line) for line in (idx / "removals.jsonl").read_text().splitlines()]
    assert [e["rule"] for e in log] == ["repo:origin", "repo:vendor-b"]
    assert [e["follow"] for e in log] == [True, False]
    assert log[0]["copies"] == 3 and log[0]["time"].endswith("Z")
    text = (idx / "removals.jsonl").read_text()
    assert "def " not in text and "textwrap.py" not in text


def test_a_reader_of_the_previous_manifest_can_still_open_its_deletions(idx: Path) -> None:
    remove(idx, [("repo", "vendor-b")], follow=False)
    old = read_manifest(idx)
    remove(idx, [("repo", "near")], follow=False)
    assert (idx / old["deletions"]).exists()  # kept for readers that read the old manifest


def test_removal_during_queries_is_all_or_nothing(idx: Path) -> None:
    """Threads query while remove() runs: every answer is the one before or the one after
    (never some copies gone and others not)."""
    from attribution.web.indexref import IndexRef

    def answer(index: Index) -> tuple[Any, ...]:
        result = attribute(TW_QUERY, index, language="python")
        names = sorted(
            {m["source"]["repo_name"] for m in result["matches"]}
            | {o["repo_name"] for m in result["matches"] for o in m["origins"]}
        )
        return result["verdict"], tuple(m["copies"] for m in result["matches"]), tuple(names)

    with Index(idx) as index:
        before = answer(index)
    ref = IndexRef(idx)
    seen: list[tuple[Any, ...]] = []
    done = threading.Event()
    ready = threading.Barrier(5)
    errors: list[BaseException] = []

    def worker(shared: bool) -> None:
        try:
            ready.wait()
            while not done.is_set():
                if shared:
                    seen.append(answer(ref.get()))
                else:
                    with Index(idx) as index:
                        seen.append(answer(index))
            with Index(idx) as index:  # one more, surely after
                seen.append(answer(index))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    ready.wait()
    remove(idx, [("repo", "origin")])
    done.set()
    for t in threads:
        t.join()
    with Index(idx) as index:
        after = answer(index)
    assert not errors, errors
    assert before[0] == "match" and after[0] == "no_match"
    assert set(seen) <= {before, after} and after in seen


# --- lookup ------------------------------------------------------------------------------------
def test_lookup_by_repository_author_and_email(built: Path) -> None:
    with Index(built) as index:
        by_repo = lookup(index, "repo", "ORIGIN")
        assert by_repo["sources"] == 3 and by_repo["repos"][0]["name"] == "origin"
        assert {p["path"] for p in by_repo["paths"]} >= {"textwrap.py", "shlex.py"}
        by_name = lookup(index, "author", "grace hopper")
        assert by_name["sources"] == 3 and "grace@navy.example" not in json.dumps(by_name)
        by_mail = lookup(index, "author", "Grace@Navy.Example")
        assert by_mail["sources"] == 3 and by_mail["query"] == {"author": "Grace@Navy.Example"}
        assert lookup(index, "author", "nobody")["indexed"] is False


def test_lookup_finds_what_remove_removes(idx: Path) -> None:
    with Index(idx) as index:
        found = lookup(index, "author", "Ada Lovelace")
    (r,) = remove(idx, [("author", "Ada Lovelace")], follow=False)
    assert (found["sources"], found["blobs"], found["repo_count"]) == (r.sources, r.blobs, r.repos)


def test_lookup_of_my_own_files(built: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "wrap.py").write_text(TEXTWRAP)  # verbatim
    (mine / "part.py").write_text(lines(TEXTWRAP, 100, 180).replace("width", "cols"))  # edited
    (mine / "other.py").write_text("def add(a, b):\n    return a + b\n")  # not indexed
    with Index(built) as index:
        answer = lookup(index, "path", str(mine))
    assert answer["files"] == 3 and answer["found"] == 2 and answer["indexed"]
    how = {m["file"].rsplit("/", 1)[-1]: m for m in answer["matches"]}
    assert how["wrap.py"]["how"] == "identical" and how["wrap.py"]["sources"] == 3
    assert how["part.py"]["how"] in ("renamed", "near") and how["part.py"]["coverage"] > 0.5
    assert {"origin", "vendor-a", "vendor-b"} <= {r["name"] for r in answer["repos"]}


def test_copies_are_the_identical_blob_and_the_same_tokens(built: Path) -> None:
    from attribution.index.lookup import copies

    with Index(built) as index:
        hits = [h for h in by_blobs(index, [_blob_of(TEXTWRAP)]) if h.repo == "origin"]
        found, near = copies(index, hits)
        assert {h.repo for h in found} == {"vendor-a", "vendor-b", "near"}
        assert near == {_blob_of(NEAR)}
        found, near = copies(index, hits, near=False)
        assert {h.repo for h in found} == {"vendor-a", "vendor-b"} and not near


# --- opt-out lists -----------------------------------------------------------------------------
def test_opt_out_list_at_build_leaves_nothing_of_them(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "decoder.py").write_text(DECODER)
    rules = tmp_path / "optout.txt"
    rules.write_text("# people who asked\nrepo: Vendor-B\nauthor: GRACE HOPPER\npath: mine\n")
    opt_out = OptOut.load(rules)
    report = build([str(corpus)], tmp_path / "index", jobs=1, opt_out=opt_out)
    assert report.opted_out == 3 + 3 + 1  # origin (Grace's), vendor-b, vendor-a's app.py
    with Index(tmp_path / "index") as index:
        assert lookup(index, "repo", "vendor-b")["indexed"] is False
        assert lookup(index, "repo", "origin")["indexed"] is False
        assert lookup(index, "author", "grace@navy.example")["indexed"] is False
        assert lookup(index, "blob", _blob_of(DECODER))["indexed"] is False
        for seg in index.segments:
            people = {v for (v,) in seg.db.execute("SELECT value FROM people")}
            assert not people & {"grace hopper", "grace@navy.example", "ada lovelace"}
    assert repos_answering(tmp_path / "index", SHLEX_QUERY) == set()
    assert repos_answering(tmp_path / "index", DECODER_QUERY) == set()
    # the build cannot know yet which files elsewhere hold their content: those copies
    # go when the list is enforced after it (the content it left out is remembered)
    assert repos_answering(tmp_path / "index", TW_QUERY) == {"vendor-a", "near"}
    removed = enforce(tmp_path / "index", opt_out)
    assert removed[-1].rule.startswith("content:") and removed[-1].copies == 1
    assert repos_answering(tmp_path / "index", TW_QUERY) == set()
    assert repos_answering(tmp_path / "index", DECODER_QUERY) == set()


def test_opt_out_list_errors_name_the_line(tmp_path: Path) -> None:
    from attribution.index.optout import OptOutError

    with pytest.raises(OptOutError, match=r"list:2: expected"):
        OptOut.parse("repo: a\nnonsense\n", "list")
    with pytest.raises(OptOutError, match=r"list:1: a blob id is 40 hex digits"):
        OptOut.parse("blob: 1234\n", "list")
    with pytest.raises(OptOutError, match="no such file or directory"):
        OptOut.parse("path: does/not/exist\n", "list", base=tmp_path)
    rules = OptOut.parse("repo: A\nauthor: B\nblob: " + "a" * 40 + "\n")
    assert rules.rules() == [("repo", "a"), ("author", "b"), ("blob", "a" * 40)]


# --- copies a formatter reformatted ----------------------------------------------------------
JS = """import { join } from 'path';

const DEFAULTS = {
  indent: '  ',
  width: 80,
  label: 'wrapped',
};

export function wrapLines(text, options) {
  const opts = Object.assign({}, DEFAULTS, options);
  const words = text.split(' ');
  const lines = [];
  let current = '';
  for (const word of words) {
    if ((current + ' ' + word).length > opts.width) {
      lines.push(opts.indent + current.trim());
      current = word;
    } else {
      current = current ? current + ' ' + word : word;
    }
  }
  if (current) {
    lines.push(opts.indent + current.trim());
  }
  return lines.join('\\n');
}

export function describe(path, items) {
  const names = items.map((item) => item.name + ':' + item.size);
  return [join(path, 'index.json'), names.join(', '), DEFAULTS.label].join(' | ');
}
"""


PY = """import os


def settings(path, mode='strict'):
    defaults = {
        'path': os.path.join(path, 'config.ini'),
        'mode': mode,
        'retries': 3
    }
    names = sorted(
        os.listdir(path),
        key=len
    )
    return dict(
        defaults,
        names=[name for name in names if name.endswith('.ini')],
        label='settings for ' + os.path.basename(path)
    )


def describe(items, sep=', '):
    parts = ['%s=%r' % (key, value) for key, value in sorted(items.items())]
    if not parts:
        return 'nothing'
    return sep.join(
        parts
    ).replace('\\n', ' ').format(
        count=len(parts),
        first=parts[0]
    )
"""


def requote(src: str, every: int = 1) -> str:
    """Python strings in single quotes put in double quotes (every n-th), as black does."""
    import io
    import tokenize

    lines = src.splitlines(keepends=True)
    found = [
        t
        for t in tokenize.generate_tokens(io.StringIO(src).readline)
        if t.type == tokenize.STRING and t.start[0] == t.end[0]
    ]
    for n, tok in enumerate(found):
        body = tok.string.lstrip("rRbBuUfF")
        if n % every or body[:3] == "'''" or not body.startswith("'") or '"' in body:
            continue
        if "\\" in body:
            continue
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + tok.string.replace("'", '"') + line[col + len(tok.string) :]
    return "".join(lines)


def trailing_commas(src: str) -> str:
    """A comma after the last item of every bracket closed on a later line (black)."""
    import io
    import tokenize

    toks = [
        t
        for t in tokenize.generate_tokens(io.StringIO(src).readline)
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT)
    ]
    lines = src.splitlines(keepends=True)
    spots = [
        a.end
        for a, b in itertools.pairwise(toks)
        if b.string in (")", "]", "}") and b.start[0] > a.end[0] and a.string not in ",([{"
    ]
    for row, col in sorted(spots, reverse=True):
        lines[row - 1] = lines[row - 1][:col] + "," + lines[row - 1][col:]
    return "".join(lines)


def js_no_semicolons(src: str) -> str:
    return "\n".join(line[:-1] if line.endswith(";") else line for line in src.split("\n"))


def js_double_quotes(src: str) -> str:
    return src.replace("'", '"')


def js_no_trailing_commas(src: str) -> str:
    return src.replace("'wrapped',\n", "'wrapped'\n")


FORMATTED = {
    "black-quotes": ("m.py", requote(PY)),
    "black-commas": ("m.py", trailing_commas(PY)),
    "black-both": ("m.py", trailing_commas(requote(PY))),
    "half-quotes": ("m.py", requote(PY, every=2)),
    "half-and-commas": ("m.py", trailing_commas(requote(PY, every=3))),
    "standard-js": ("w.js", js_no_semicolons(JS)),
    "double-js": ("w.js", js_double_quotes(JS)),
    "no-commas-js": ("w.js", js_no_trailing_commas(JS)),
    "standard-double-js": ("w.js", js_double_quotes(js_no_semicolons(JS))),
    "all-js": ("w.js", js_double_quotes(js_no_semicolons(js_no_trailing_commas(JS)))),
}


def test_removal_follows_copies_a_formatter_reformatted(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    files = {"origin": {"settings.py": PY, "wrap.js": JS}}
    files |= {name: {path: text} for name, (path, text) in FORMATTED.items()}
    # the same layout with one string changed is other code: it stays
    files["edited"] = {"m.py": requote(PY).replace('"nothing"', '"none"')}
    for name, tree in files.items():
        for path, text in tree.items():
            (root / name / path).parent.mkdir(parents=True, exist_ok=True)
            (root / name / path).write_text(text)
    assert len({text for _, text in FORMATTED.values()}) == 10  # ten distinct copies
    build([str(root)], tmp_path / "index", jobs=1)
    (removal,) = remove(tmp_path / "index", [("repo", "origin")])
    assert removal.copies == 10 and removal.copy_repos == 10 and removal.near_copies == 10
    with Index(tmp_path / "index") as index:
        live = {h.repo for h in by_blobs(index, _all_blobs(index))}
    assert live == {"edited"}


def _all_blobs(index: Index) -> list[str]:
    return [r[1] for seg in index.segments for r in seg.blob_rows()]
