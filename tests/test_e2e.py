"""End to end on real code: the embedded default (installed packages) indexed and queried."""

from __future__ import annotations

import inspect
import random
import textwrap
from pathlib import Path

import pytest

from attribution.core.search import attribute
from attribution.core.tokenize import tokenize
from attribution.index.build import build
from attribution.index.store import Index

MIN_TOKENS = 80  # shorter functions, once renamed or edited, hold too little evidence
PACKAGES = ("flask", "werkzeug", "jinja2", "click", "itsdangerous", "markupsafe", "datasketch")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("e2e") / "index"
    report = build([f"installed:{','.join(PACKAGES)}"], out, jobs=2)
    assert report.files > 100
    with Index(out) as opened:
        yield opened


def functions(count: int, seed: int = 5) -> list[tuple[str, str, int, int]]:
    """(code, repo-relative path, first line, last line) of real functions of 8+ lines
    and MIN_TOKENS+ tokens."""
    import click
    import datasketch.minhash
    import flask.app
    import jinja2.lexer
    import werkzeug.routing.rules

    found = []
    for module in (flask.app, werkzeug.routing.rules, jinja2.lexer, click.core, datasketch.minhash):
        site = Path(module.__file__).resolve().parents[len(module.__name__.split(".")) - 1]
        path = Path(module.__file__).resolve().relative_to(site).as_posix()
        for _, obj in inspect.getmembers(module):
            targets = [obj] + (
                [m for _, m in inspect.getmembers(obj)] if inspect.isclass(obj) else []
            )
            for fn in targets:
                if not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                    continue
                try:
                    lines, first = inspect.getsourcelines(fn)
                except (OSError, TypeError):
                    continue  # generated at run time: no source
                if inspect.getsourcefile(fn) != module.__file__:
                    continue
                code = textwrap.dedent("".join(lines))
                if 8 <= len(lines) <= 60 and len(tokenize(code, "python")) >= MIN_TOKENS:
                    found.append((code, path, first, first + len(lines) - 1))
    rng = random.Random(seed)
    rng.shuffle(found)
    return sorted(set(found), key=found.index)[:count]


def renamed(code: str) -> str:
    data = code.encode()
    ts = tokenize(data, "python")
    names: dict[bytes, bytes] = {}
    out, last = bytearray(), 0
    for s, e, kind in zip(ts.start.tolist(), ts.end.tolist(), ts.kind.tolist(), strict=True):
        word = data[s:e]
        if kind == 1 and word not in (b"self", b"cls") and not word[:1].isupper():
            names.setdefault(word, b"v%d" % len(names))
            out += data[last:s] + names[word]
            last = e
    return (out + data[last:]).decode()


def edited(code: str) -> str:
    """About a fifth of the simple statements replaced by something else."""
    lines = code.splitlines()
    ts = tokenize(code, "python")
    in_strings = {
        n
        for a, b in zip(ts.line.tolist(), ts.end_line.tolist(), strict=True)
        for n in range(a + 1, b + 1)
    }
    code_lines = set(ts.line.tolist()) - in_strings  # 1-based lines where a token starts
    depth, open_before = 0, []
    for line in lines:  # inside brackets a line is part of a larger expression
        open_before.append(depth)
        depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")
    simple = [
        i
        for i, line in enumerate(lines[1:-1], 1)
        if i + 1 in code_lines
        and open_before[i] == 0
        and not line.rstrip().endswith((":", ",", "(", "[", "{", "\\"))
        and not line.strip().startswith(("@", ")", "]", "}", "return", "else", "elif"))
        and line.count("(") == line.count(")")
    ]
    for i in simple[1::4]:
        lines[i] = " " * (len(lines[i]) - len(lines[i].lstrip())) + "log_step(locals())"
    return "\n".join(lines) + "\n"


def check(index: Index, code: str, path: str, first: int, last: int, kind: str) -> None:
    result = attribute(code, index, language="python")
    assert result["verdict"] == "match", (path, first)
    top = result["matches"][0]
    paths = {top["source"]["path"]} | {o["path"] for o in top["origins"]}
    assert path in paths, (path, first, top["source"]["path"])
    assert top["match_type"] == kind, (path, first, top["match_type"])
    got = top["source_lines"]
    assert abs(got[0] - first) <= 1 and abs(got[1] - last) <= 1, (path, first, last, got)


def test_verbatim_copies_are_exact(index: Index) -> None:
    for code, path, first, last in functions(15):
        check(index, code, path, first, last, "exact")


def test_renamed_copies_are_renamed(index: Index) -> None:
    for code, path, first, last in functions(15, seed=6):
        check(index, renamed(code), path, first, last, "renamed")


def test_copies_with_a_fifth_changed_are_near(index: Index) -> None:
    checked = 0
    for code, path, first, last in functions(40, seed=7):
        changed = edited(code)
        if changed.count("log_step") < 2:
            continue  # too few simple statements to change a fifth of them
        check(index, changed, path, first, last, "near")
        checked += 1
    assert checked >= 8


def test_license_and_authors_come_from_package_metadata(index: Index) -> None:
    code, _path, _first, _last = functions(1)[0]
    source = attribute(code, index, language="python")["matches"][0]["source"]
    assert source["license"] != "NOASSERTION" and source["license_type"] == "permissive"
    assert source["repo_name"].startswith("pypi/")
    assert all("@" not in a for a in source["authors"])


def test_code_written_for_the_test_is_no_match(index: Index) -> None:
    scratch = [
        """
        def route_table(app_routes, prefix="/api"):
            table = {}
            for name, handler in sorted(app_routes.items()):
                key = f"{prefix}/{name.strip('/')}"
                if key in table:
                    raise ValueError(f"duplicate route {key}")
                table[key] = handler
            return table
        """,
        """
        class Tally:
            def __init__(self):
                self.seen = {}

            def add(self, word):
                self.seen[word] = self.seen.get(word, 0) + 1
                return self.seen[word]

            def top(self, n=3):
                return sorted(self.seen.items(), key=lambda kv: -kv[1])[:n]
        """,
        """
        def render_banner(title, width=40, fill="*"):
            line = fill * width
            middle = title.center(width - 2)
            return "\\n".join([line, fill + middle + fill, line])
        """,
    ]
    for code in scratch:
        result = attribute(textwrap.dedent(code), index, language="python")
        assert result["verdict"] == "no_match", result["matches"][:1]
