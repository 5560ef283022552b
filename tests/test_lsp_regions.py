"""The language server's pure parts: regions, the checker's cache, options, presentation."""

from __future__ import annotations

import inspect
import itertools
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from test_check_staged_corpus import MIT_FUNCTION, OWN_CODE, lines_of, small_index

from attribution.core.search import QueryError, attribute
from attribution.index.store import Index
from attribution.lsp import present, regions
from attribution.lsp.backend import LocalBackend, _batches
from attribution.lsp.checker import Checker, DocumentProblem, Snapshot, resolve_language
from attribution.lsp.options import Options

__all__ = ["small_index"]

MODULE = inspect.getsource(textwrap)  # real code with classes, methods and functions


# ---------------------------------------------------------------- regions
def test_regions_cover_the_document_in_order() -> None:
    parts = regions.split(MODULE, "python", big=60)
    assert len(parts) > 5
    assert parts[0].first == 1 and parts[-1].last == MODULE.count("\n") + 1
    for a, b in itertools.pairwise(parts):
        assert b.first == a.last + 1
    lines = MODULE.split("\n")
    for r in parts:  # dedented, same line count
        assert r.text.count("\n") == r.last - r.first + 1
        assert r.text.split("\n")[0].strip() == lines[r.first - 1].strip()


def test_a_method_is_a_region_of_its_own_and_dedented() -> None:
    parts = regions.split(MODULE, "python", big=60)
    method = inspect.getsource(textwrap.TextWrapper._wrap_chunks)
    first, last = lines_of(MODULE, method)
    region = next(r for r in parts if r.first == first)
    assert region.last == last
    assert region.text.startswith("def _wrap_chunks(self, chunks):")


def test_an_edit_moves_no_region_far_from_it() -> None:
    lines = MODULE.split("\n")
    at = lines_of(MODULE, inspect.getsource(textwrap.TextWrapper._split))[0] + 3
    edited = "\n".join([*lines[:at], "        extra = 1 + 2", *lines[at:]])
    before = regions.split(MODULE, "python", big=60)
    after = regions.split(edited, "python", big=60)
    old = {r.digest for r in before}
    changed = [r for r in after if r.digest not in old]
    assert len(changed) <= 2, [(r.first, r.last) for r in changed]
    assert all(r.first <= at + 1 <= r.last + 40 for r in changed)


def test_languages_without_a_grammar_are_one_region() -> None:
    text = '#!/bin/sh\nfor f in *.txt; do\n  echo "$f"\ndone\n'
    parts = regions.split(text, "shell", big=60)
    assert [(r.first, r.last) for r in parts] == [(1, 5)]


def test_dedent_keeps_lines_and_blank_lines() -> None:
    assert regions.dedent(["    a = 1", "", "      b = 2"]) == "a = 1\n\n  b = 2\n"
    assert regions.dedent(["\tx", "\ty"]) == "x\ny\n"


def _match(source: str, q: list[int], s: list[int], kind: str = "exact") -> dict[str, Any]:
    return {
        "source": {"id": source},
        "match_type": kind,
        "query_lines": q,
        "source_lines": s,
        "spans": [{"query_lines": q, "source_lines": s, "tokens": 40}],
        "tokens": 40,
        "coverage": 1.0,
        "score": 0.5,
    }


def test_shift_and_merge_of_neighbouring_matches() -> None:
    shifted = regions.shift([_match("s:1", [1, 10], [100, 109])], 20)
    assert shifted[0]["query_lines"] == [21, 30] and shifted[0]["spans"][0]["query_lines"] == [
        21,
        30,
    ]
    merged = regions.merge_adjacent(
        [_match("s:1", [33, 40], [113, 120], "renamed"), *shifted, _match("s:2", [50, 60], [1, 11])]
    )
    assert [m["query_lines"] for m in merged] == [[21, 40], [50, 60]]
    assert merged[0]["source_lines"] == [100, 120] and merged[0]["match_type"] == "renamed"
    assert len(merged[0]["spans"]) == 2 and merged[0]["tokens"] == 80
    # out of order in the source, or far apart: two matches
    apart = [_match("s:1", [1, 10], [100, 109]), _match("s:1", [12, 20], [10, 18])]
    assert len(regions.merge_adjacent(apart)) == 2
    far = [_match("s:1", [1, 10], [100, 109]), _match("s:1", [60, 70], [160, 170])]
    assert len(regions.merge_adjacent(far)) == 2


# ---------------------------------------------------------------- the checker
class CountingBackend:
    """Answers no match, counting what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def attribute_many(self, items: list[tuple[str, str]]) -> list[Any]:
        self.asked += [code for code, _ in items]
        return [{"matches": []} if "raise_me" not in c else QueryError("bad") for c, _ in items]

    def source_url(self, match: dict[str, Any]) -> str | None:
        return None

    def describe(self) -> str:
        return "counting"

    def configure(self, min_tokens: int | None, top: int, max_candidates: int | None) -> None:
        pass

    def close(self) -> None:
        pass


def snap(text: str, version: int = 1, uri: str = "file:///a.py") -> Snapshot:
    return Snapshot(uri, version, text, "python", uri.removeprefix("file://"))


def test_only_changed_regions_are_attributed_again() -> None:
    backend = CountingBackend()
    checker = Checker(backend, Options())
    first = checker.check(snap(MODULE))
    assert first.attributed == len(backend.asked) > 5
    # unchanged text (a save, an undo): nothing is asked
    again = checker.check(snap(MODULE, 2))
    assert again.attributed == 0 and len(backend.asked) == first.attributed
    # one method edited: one or two regions are asked again
    edited = MODULE.replace("chunks.reverse()", "chunks.reverse()\n        counter = 0", 1)
    assert edited != MODULE
    third = checker.check(snap(edited, 3))
    assert 1 <= third.attributed <= 2
    # another document holding the same code shares the region cache
    other = checker.check(snap(MODULE, 1, "file:///copy.py"))
    assert other.attributed == 0


def test_region_errors_are_notes_not_failures() -> None:
    backend = CountingBackend()
    checker = Checker(backend, Options())
    text = OWN_CODE + "\n\n" + "def raise_me(a, b, c, d):\n    return a + b + c + d + a * b * c\n"
    outcome = checker.check(snap(text))
    assert any("bad" in note for note in outcome.notes)


def test_checker_finds_what_the_whole_document_query_finds(small_index: Path) -> None:
    text = OWN_CODE + "\n\n" + MIT_FUNCTION + "\n\n" + OWN_CODE.replace("add", "plus")
    checker = Checker(LocalBackend(str(small_index)), Options())
    outcome = checker.check(snap(text))
    with Index(small_index) as index:
        whole = attribute(text, index, language="python")
    first, last = lines_of(text, MIT_FUNCTION)
    assert [m["query_lines"] for m in outcome.matches] == [[first, last]]
    # the whole-document query finds the same match (its end may run into the next lines)
    assert len(whole["matches"]) == 1
    assert whole["matches"][0]["query_lines"][0] == first
    assert 0 <= whole["matches"][0]["query_lines"][1] - last <= 3
    assert whole["matches"][0]["source"]["id"] == outcome.matches[0]["source"]["id"]
    assert outcome.matches[0]["source"]["license"] == "MIT"


def test_document_problems() -> None:
    checker = Checker(CountingBackend(), Options(max_document_bytes=1000))
    with pytest.raises(DocumentProblem, match="too large") as err:
        checker.check(snap("x = 1\n" * 500))
    assert err.value.kind == "size"
    with pytest.raises(DocumentProblem, match="looks binary"):
        checker.check(snap("x = 1\x00\n"))
    with pytest.raises(DocumentProblem, match="'cobol' is not one it knows") as err:
        checker.check(Snapshot("file:///p.cob", 1, "MOVE A TO B.\n", "cobol", "/p.cob"))
    assert err.value.kind == "language"


def test_language_from_the_client_then_the_file_name_then_a_shebang() -> None:
    assert resolve_language("python", None, b"") == "python"
    assert resolve_language("typescriptreact", None, b"") == "tsx"
    assert resolve_language("shellscript", None, b"") == "shell"
    assert resolve_language("plaintext", "/src/main.rs", b"") == "rust"
    assert resolve_language(None, "/bin/tool", b"#!/usr/bin/env python3\n") == "python"
    with pytest.raises(DocumentProblem):
        resolve_language("plaintext", "/notes.txt", b"hello")


def test_remote_batches_are_bounded() -> None:
    items = [("x" * 100_000, "python")] * 45
    batches = _batches(items)
    assert sum(len(b) for b in batches) == 45
    assert all(len(b) <= 50 and sum(len(c) for c, _ in b) <= 2_100_000 for b in batches)
    assert len(_batches([("x", "python")] * 120)) == 3


# ---------------------------------------------------------------- options
def test_options_from_the_client() -> None:
    options, problems = Options.from_client(
        {"debounceMs": 100, "severity": {"copyleft": "warning", "permissive": "off"}, "top": 3}
    )
    assert problems == []
    assert options.debounce_ms == 100 and options.top == 3
    assert options.severity_of("copyleft") == types.DiagnosticSeverity.Warning
    assert options.severity_of("permissive") is None
    assert options.severity_of("proprietary") == types.DiagnosticSeverity.Error
    options, problems = Options.from_client(
        {"debounceMs": -1, "severity": {"gpl": "loud"}, "colour": True, "minTokens": "x"}
    )
    assert options == Options()
    assert len(problems) == 4
    assert any("debounceMs: must be an integer >= 0, got -1" in p for p in problems)
    assert any("unknown license type 'gpl'" in p for p in problems)
    assert any("unknown option 'colour'" in p for p in problems)
    assert Options.from_client("fast")[1] == ["initializationOptions must be an object, got 'fast'"]


# ---------------------------------------------------------------- presentation
MATCH = {
    "source": {
        "id": "s:1",
        "repo_name": "mylib",
        "path": "textwrap.py",
        "license": "MIT",
        "license_type": "permissive",
        "authors": ["Jane Doe"],
        "copyright": ["Copyright (c) 2024 Jane Doe"],
        "obligations": ["Keep the copyright notice and the MIT license text with the code."],
        "swhid": "swh:1:cnt:00",
    },
    "match_type": "renamed",
    "query_lines": [3, 4],
    "source_lines": [10, 11],
    "coverage": 0.5,
    "copies": 2,
    "origins": [{"repo_name": "fork", "path": "vendor/textwrap.py", "license": "MIT"}],
}


def test_attribution_comments_use_the_language_syntax() -> None:
    python = present.attribution_comment(MATCH, "python", "    ", "https://x.org/mylib")
    assert python == (
        "    # Adapted from mylib textwrap.py lines 10-11 (https://x.org/mylib)\n"
        "    # License: MIT. Copyright (c) 2024 Jane Doe\n"
    )
    assert present.attribution_comment(MATCH, "rust", "", None).startswith("// Adapted from")
    assert present.attribution_comment(MATCH, "haskell", "", None).startswith("-- Adapted")
    lines = ["x = 1", *python.rstrip("\n").split("\n"), "def f():", "    pass"]
    assert present.attributed(lines, MATCH)
    assert not present.attributed(["x = 1", "", "def f():", "    pass"], MATCH)


def test_diagnostic_range_message_and_hover() -> None:
    lines = ["a", "b", "    def f(x):", "        return x + 1", "c"]
    diag = present.diagnostic(lines, MATCH, Options(), len)
    assert diag is not None
    assert (diag.range.start.line, diag.range.start.character) == (2, 4)
    assert (diag.range.end.line, diag.range.end.character) == (3, len(lines[3]))
    assert diag.severity == types.DiagnosticSeverity.Information and diag.code == "MIT"
    assert "mylib textwrap.py lines 10-11" in diag.message and "2 copies" in diag.message
    hover = present.hover_text(MATCH, "https://x.org/mylib")
    assert "[mylib](https://x.org/mylib)" in hover and "Also in: fork `vendor/textwrap.py`" in hover
    off = Options(severity=(("permissive", "off"),))
    assert present.diagnostic(lines, MATCH, off, len) is None


def test_max_candidates_defaults_to_6_and_null_means_the_index_setting() -> None:
    assert Options().max_candidates == 6
    assert Options.from_client({"maxCandidates": None})[0].max_candidates is None
    assert Options.from_client({"maxCandidates": 12})[0].max_candidates == 12
    assert Options.from_client({"maxCandidates": 0})[1] == [
        "maxCandidates: must be an integer >= 1, got 0"
    ]
