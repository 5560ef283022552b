"""The tokenizer's tree walk against a plain reading of its rule.

The index is built with the same tokenizer the queries go through, so a token stream
must not change when the walk is made faster: every array of it is checked here against
a reference written for clarity, not speed (each node's children listed, type names
compared, lines counted), on real code of every supported language and on odd input.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tree_sitter

from attribution.core import languages as langs
from attribution.core import tokenize as tok

ROOT = Path(__file__).resolve().parents[1]
GRAMMARS = sorted(name for name in langs.LANGUAGES if langs.has_grammar(name))
FALLBACK = sorted(name for name in langs.LANGUAGES if not langs.has_grammar(name))


def plain_hash(text: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "little")


def plain_class(node: Any) -> int | None:
    """The class of a node taken whole (literals, identifiers), -1 for a comment, None
    for a node the walk goes into or takes as a leaf."""
    if not node.is_named:
        return None
    if node.type in langs.COMMENT_TYPES:
        return -1
    if node.type in langs.STRING_TYPES:
        return langs.STRING
    if node.type in langs.NUMBER_TYPES:
        return langs.NUMBER
    if node.type.endswith("identifier"):
        return langs.IDENTIFIER
    return None


def plain_docstring(node: Any, language: str) -> bool:
    return (
        language == "python"
        and node.type == "expression_statement"
        and len(node.named_children) == 1
        and node.named_children[0].type in ("string", "concatenated_string")
    )


def plain_leaves(data: bytes, language: str) -> tuple[list[tuple[int, int, int]], list[Any]]:
    """(start, end, class) of every token in text order, and the unit nodes."""
    root = tree_sitter.Parser(langs.grammar(language)).parse(data).root_node
    tokens, units = [], []
    stack = [root]  # depth first, children in order (no recursion: deep nesting)
    while stack:
        node = stack.pop()
        kind = plain_class(node)
        if kind == -1 or plain_docstring(node, language):
            continue
        if kind is not None:
            tokens.append((node.start_byte, node.end_byte, kind))
        elif not node.children:
            if node.end_byte > node.start_byte:
                tokens.append((node.start_byte, node.end_byte, langs.OTHER))
        else:
            if node.is_named and node.type in langs.UNIT_TYPES:
                units.append(node)
            stack.extend(reversed(node.children))
    return tokens, units


def plain_fallback(data: bytes, language: str) -> list[tuple[int, int, int]]:
    """The fallback lexer's tokens, read match by match."""
    comment = tok._line_comment_regex(langs.LANGUAGES[language].line_comments)
    if comment is not None:
        data = comment.sub(lambda m: b" " * len(m.group(0)), data)
    out = []
    for m in tok._FALLBACK.finditer(data):
        kind = {"str": langs.STRING, "num": langs.NUMBER, "punct": langs.OTHER}.get(
            m.lastgroup or "", langs.IDENTIFIER
        )
        if m.lastgroup == "word" and m.group(0) in tok._KEYWORDS:
            kind = langs.OTHER
        if m.lastgroup not in ("ws", "block"):
            out.append((m.start(), m.end(), kind))
    return out


def plain_stream(data: bytes, language: str) -> dict[str, Any]:
    """Every array of the TokenStream, computed token by token."""
    if langs.has_grammar(language):
        tokens, unit_nodes = plain_leaves(data, language)
    else:
        tokens, unit_nodes = plain_fallback(data, language), []
    starts = [s for s, _, _ in tokens]
    units = []
    for node in unit_nodes:
        a = sum(1 for s in starts if s < node.start_byte)
        b = sum(1 for s in starts if s < node.end_byte)
        if b > a:
            units.append([a, b])
    return {
        "text_hash": ([plain_hash(data[s:e]) for s, e, _ in tokens], np.uint32),
        "kind": ([k for _, _, k in tokens], np.uint8),
        "start": (starts, np.uint32),
        "end": ([e for _, e, _ in tokens], np.uint32),
        "line": ([data.count(b"\n", 0, s + 1) + 1 for s, _, _ in tokens], np.uint32),
        "end_line": ([data.count(b"\n", 0, max(e, s + 1)) + 1 for s, e, _ in tokens], np.uint32),
        "units": (units, np.int32),
    }


def assert_same(data: bytes, language: str, stream: tok.TokenStream | None = None) -> None:
    stream = stream if stream is not None else tok.tokenize(data, language)
    assert stream.language == language
    for name, (values, dtype) in plain_stream(data, language).items():
        got = getattr(stream, name)
        want = np.array(values, dtype=dtype).reshape(got.shape if name == "units" else -1)
        assert got.dtype == dtype, name
        assert got.tolist() == want.tolist(), (language, name)
    assert stream.units.shape[1:] == (2,)


REAL = {
    "python": b'''"""A module docstring."""
import os


class Walker:
    """Walks a tree."""

    def __init__(self, root: str, *, depth: int = 3) -> None:
        self.root = root  # where to start
        self.depth = depth
        "not a docstring" + "but an expression"

    async def walk(self):
        for name in sorted(os.listdir(self.root)):
            yield f"{self.root}/{name!r:>10}", 0x1F, 1.5e-3, b"\\x00"
        return lambda x: [y for y in x if y]
''',
    "javascript": b"""// line comment
/* block */ import { readFile } from 'node:fs/promises';
export async function load(path, opts = {}) {
  const text = await readFile(path, 'utf8');
  return text.split(/\\r?\\n/).map((line, i) => `${i}: ${line}`);
}
class Cache extends Map { get(k) { return super.get(k) ?? null; } }
const re = /[a-z]+/g, n = 0x10n, f = function* () { yield 1.5; };
""",
    "typescript": b"""interface Point { x: number; y: number }
type Pair<T> = [T, T];
export function dist(a: Point, b: Point): number {
  // the Euclidean distance
  return Math.hypot(a.x - b.x, a.y - b.y);
}
enum Color { Red = 1, Green = 'g' }
abstract class Shape { abstract area(): number; constructor(private readonly id: string) {} }
""",
    "tsx": b"""import React from 'react';
export const List = ({ items }: { items: string[] }) => (
  <ul className="list">
    {/* comment in JSX */}
    {items.map((it, i) => <li key={i}>{it} &amp; more</li>)}
  </ul>
);
""",
    "c": b"""#include <stdio.h>
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* a block
   comment */
static int sum(const int *xs, size_t n) {
    int total = 0;  // running
    for (size_t i = 0; i < n; i++) total += xs[i];
    return total;
}
int main(void) { char c = 'x'; printf("%d %c\\n", sum((int[]){1, 2}, 2), c); return 0x0; }
""",
    "cpp": b"""#include <vector>
namespace geo {
template <typename T>
class Box {
 public:
  explicit Box(T v) : v_(v) {}
  T get() const { return v_; }  // getter
 private:
  T v_;
};
auto twice = [](int x) { return x * 2; };
}  // namespace geo
int main() { std::vector<int> v{1, 2, 3}; return geo::twice(v[0]) + R"(raw)"[0]; }
""",
    "java": b"""package a.b;
import java.util.List;
/** Javadoc. */
public class Sum {
    private static final long LIMIT = 10_000L;
    public Sum() { super(); }
    public long of(List<Integer> xs) {
        long t = 0; // total
        for (int x : xs) { t += x; }
        return t > LIMIT ? LIMIT : t + 'c' + 1.5f;
    }
}
""",
    "go": b"""package main

import "fmt"

// Add adds.
func Add(a, b int) int { return a + b }

type T struct{ n int }

func (t *T) Inc() { t.n++ }

func main() {
	f := func(x float64) float64 { return x * 2.5i }
	fmt.Println(Add(1, 0x2), `raw`, 'r', f)
}
""",
    "rust": b"""use std::collections::HashMap;
/// doc comment
pub fn count(words: &[&str]) -> HashMap<&str, usize> {
    let mut m = HashMap::new(); // counts
    for w in words { *m.entry(*w).or_insert(0) += 1; }
    m
}
impl Default for S { fn default() -> Self { S { x: 1.5, c: 'c', s: r"raw" } } }
/* block /* nested */ comment */
fn main() { println!("{:?}", count(&["a", "b"])); }
""",
    "shell": b"#!/bin/sh\n# comment\nfor x in 1 2; do echo \"$x\" 'y'; done # tail\n",
    "lua": b"-- comment\nlocal function f(a) return a .. 'x' end\n",
    "assembly": b"; comment\nmov eax, 0x10 # tail\n// other\n",
    "php": b"<?php // c\n# c\nfunction f($a) { return $a + 1; }\n",
}

ODD = {
    "empty": b"",
    "blank": b"  \n\t\n",
    "only a comment": b"// just this\n",
    "parse errors": b'int f( { return ]] 1 +; }\n} else {{ "unterminated\n',
    "unicode": "s = 'héllo wörld ✓'; naïve = \"日本語\"  # ünïcode\nπ = 3.14\n".encode(),
    "CRLF": b"def f(a):\r\n    return a\r\n\r\nx = f(1)\r\n",
    "invalid utf-8": b"x = '\xff\xfe'\nint \xc3( y;\n",
    "NUL bytes": b"a\x00b = 1\x00\n",
    "lone CR": b"a = 1\rb = 2\r",
    "missing nodes": b"int main() { return (1 + ;\n",
    "deep nesting": b"x = " + b"(" * 400 + b"1" + b")" * 400 + b"\n",
}


def test_every_supported_language_has_a_real_sample_or_is_lexed_by_the_fallback():
    assert set(GRAMMARS) <= set(REAL)
    assert FALLBACK and set(FALLBACK) & set(REAL)


@pytest.mark.parametrize("language", sorted(REAL))
def test_real_code(language):
    assert_same(REAL[language], language)
    assert len(tok.tokenize(REAL[language], language)) >= 4


@pytest.mark.parametrize("language", GRAMMARS)
def test_units_and_docstrings_are_read_as_the_rule_says(language):
    ts = tok.tokenize(REAL[language], language)
    assert len(ts.units) >= 1, language  # every sample holds a function
    if language == "python":  # the two docstrings are dropped, the expression kept
        words = [REAL[language][s:e] for s, e in zip(ts.start, ts.end, strict=True)]
        assert b'"not a docstring"' in words and b'"""Walks a tree."""' not in words


@pytest.mark.parametrize("case", sorted(ODD))
@pytest.mark.parametrize("language", [*GRAMMARS, "shell", "lua"])
def test_odd_input(language, case):
    assert_same(ODD[case], language)


@pytest.mark.parametrize("language", GRAMMARS)
def test_code_in_another_language_parses_with_errors_and_still_agrees(language):
    for other in REAL:
        assert_same(REAL[other], language)


def test_real_files_of_this_repository():
    files = {
        "python": sorted((ROOT / "attribution" / "core").glob("*.py")),
        "javascript": [ROOT / "attribution" / "web" / "static" / "app.js"],
        "typescript": [ROOT / "attribution" / "web" / "static" / "app.js"],
        "shell": [ROOT / "bench" / "peers" / "setup.sh"],
    }
    for language, paths in files.items():
        for path in paths:
            assert_same(path.read_bytes(), language)


@pytest.mark.parametrize("language", GRAMMARS)
def test_snippets_cut_anywhere(language):
    """A snippet cut at any line goes through tokenize_snippet; when nothing is blanked
    its stream is the plain reading of the snippet itself."""
    lines = REAL[language].splitlines(keepends=True)
    for a in range(0, len(lines), 2):
        snippet = b"".join(lines[a : a + 7])
        blanked, _ = tok._skip_open_comment(snippet, language)
        assert len(blanked) == len(snippet)
        assert_same(blanked, language, tok.tokenize_snippet(snippet, language))


def test_str_input_is_read_as_utf8():
    text = ODD["unicode"].decode()
    assert_same(ODD["unicode"], "python", tok.tokenize(text, "python"))


def test_a_token_text_first_seen_and_one_known_hash_alike():
    fresh = b"zz_" + hashlib.sha1(b"fresh").hexdigest().encode() + b" = 1\n"
    first = tok.tokenize(fresh, "python").text_hash.tolist()
    again = tok.tokenize(fresh, "python").text_hash.tolist()
    assert first == again == [plain_hash(fresh[:43]), plain_hash(b"="), plain_hash(b"1")]
