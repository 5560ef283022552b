import numpy as np
import pytest

from attribution.core.languages import (
    LANGUAGES,
    UnknownLanguageError,
    detect_language,
    guess_language,
    normalize_language,
)
from attribution.core.tokenize import tokenize, tokenize_snippet

SAMPLES = {
    "python": "def f(a, b=2):\n    # comment\n    return a + b * 1.5  # tail\n",
    "javascript": "function f(a) { // c\n  return a + 'x' + `t${a}`; }\n",
    "typescript": "function f(a: number): string { /* c */ return String(a); }\n",
    "tsx": 'const C = (p: P) => <div className="x">{p.a}</div>;\n',
    "c": "int f(int a) { /* c */ return a + 0x10; } // t\n",
    "cpp": "template <class T> T f(T a) { return a; } // c\n",
    "java": "class A { int f(int a) { /* c */ return a + 1; } }\n",
    "go": "package m\n// c\nfunc F(a int) int { return a + 1 }\n",
    "rust": "fn f(a: u32) -> u32 { // c\n    a + 1 }\n",
}


def texts(data: bytes, ts) -> list[str]:
    return [data[s:e].decode() for s, e in zip(ts.start.tolist(), ts.end.tolist(), strict=True)]


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_grammar_languages_drop_comments(language):
    code = SAMPLES[language]
    ts = tokenize(code, language)
    words = texts(code.encode(), ts)
    assert words, language
    assert not any("//" in w or "/*" in w or w.startswith("#") for w in words)
    assert ts.line.min() >= 1 and ts.line.max() <= code.count("\n") + 1


def test_layout_and_comments_do_not_change_tokens():
    a = tokenize("def f(a, b):\n    return a + b\n", "python")
    b = tokenize("def f( a,b ):  # hi\n\n\n    return a+b # sum\n", "python")
    assert a.text_hash.tolist() == b.text_hash.tolist()
    assert a.abstract.tolist() == b.abstract.tolist()


def test_abstract_view_hides_names_and_literals():
    a = tokenize("x = foo(1, 'a')\n", "python")
    b = tokenize("y = bar(2, 'b')\n", "python")
    assert a.abstract.tolist() == b.abstract.tolist()
    assert a.text_hash.tolist() != b.text_hash.tolist()


def test_docstrings_are_dropped():
    ts = tokenize('def f():\n    """Doc."""\n    return 1\n', "python")
    assert len(ts) == 7


def test_offsets_and_lines():
    code = "a = 1\nb = 'two'\n"
    ts = tokenize(code, "python")
    assert texts(code.encode(), ts) == ["a", "=", "1", "b", "=", "'two'"]
    assert ts.line.tolist() == [1, 1, 1, 2, 2, 2]


def test_units_cover_functions():
    ts = tokenize("x = 1\ndef f(a):\n    return a\n", "python")
    assert ts.units.tolist() == [[3, 11]]


def test_fallback_lexer():
    ts = tokenize('#!/bin/sh\n# comment\nfor x in 1 2; do echo "$x"; done\n', "shell")
    words = texts(b'#!/bin/sh\n# comment\nfor x in 1 2; do echo "$x"; done\n', ts)
    assert words[:3] == ["for", "x", "in"] and "# comment" not in words


def test_invalid_utf8_and_binary_do_not_crash():
    assert len(tokenize(b"x = '\xff\xfe'\n", "python")) == 3
    tokenize(bytes(range(256)) * 10, "c")


def test_deep_nesting():
    code = "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n"
    ts = tokenize(code, "python")
    assert len(ts) == 6003


def test_language_detection():
    assert detect_language("a/b.rs", b"") == "rust"
    assert detect_language("script", b"#!/usr/bin/env python3\n") == "python"
    assert detect_language("x.unknownext", b"") is None
    assert detect_language(None, b"", "C++") == "cpp"
    with pytest.raises(UnknownLanguageError, match="unknown language 'cobol'; known: "):
        normalize_language("cobol")
    assert guess_language(b"#include <stdio.h>\nint main(void) { return 0; }") == "c"
    assert guess_language(b"def f(x):\n    return x\n") == "python"
    assert guess_language(b"fn main() { let mut x = 1; }") == "rust"
    assert set(LANGUAGES) >= {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "c",
        "cpp",
        "java",
        "go",
        "rust",
    }


def test_token_arrays_are_parallel():
    ts = tokenize(SAMPLES["c"], "c")
    n = len(ts)
    assert all(a.shape == (n,) for a in (ts.kind, ts.start, ts.end, ts.line, ts.end_line))
    assert (ts.end > ts.start).all() and np.all(np.diff(ts.start.astype(int)) > 0)


JAVA_CLASS = b"""/**
 * Filters files by size.
 * <pre>
 * final Path dir = Paths.get("");
 * Files.walkFileTree(dir, Collections.emptySet(), 1, visitor);
 * </pre>
 */
public class SizeFilter extends AbstractFilter {
    private final long size;

    public SizeFilter(final long size) {
        this.size = size;
    }
}
"""


def test_a_snippet_cut_inside_a_block_comment_is_tokenized_from_the_comments_end():
    snippet = JAVA_CLASS[JAVA_CLASS.index(b" * final Path") :]
    whole = texts(JAVA_CLASS, tokenize(JAVA_CLASS, "java"))
    cut = tokenize_snippet(snippet, "java")
    assert texts(snippet, cut) == whole  # the comment's words are not taken for code
    assert texts(snippet, tokenize(snippet, "java")) != whole
    assert int(cut.line[0]) == snippet[: snippet.index(b"public")].count(b"\n") + 1


def test_a_snippet_cut_inside_a_python_docstring_is_tokenized_from_its_end():
    source = (
        b'def area(r):\n    """The area of a circle.\n\n    >>> area(1)\n    3.14159\n    """\n'
        b"    return 3.14159 * r * r\n\n\ndef twice(x):\n    return 2 * x\n"
    )
    snippet = source[source.index(b"    >>> area") :]
    expected = ["return", "3.14159", "*", "r", "*", "r", "def", "twice", "(", "x", ")", ":"]
    expected += ["return", "2", "*", "x"]
    assert texts(snippet, tokenize_snippet(snippet, "python")) == expected


@pytest.mark.parametrize(
    ("language", "snippet"),
    [
        # "*/" before any "/*", but in a regular expression and a string: code, not a comment
        ("javascript", b"const t = s.replace(/\\s*/g, '');\nconst g = 'src/**/x.js';\n/* a */\n"),
        # a window cut inside a function: stray braces, then "*/" in a regular expression
        (
            "javascript",
            b"    total += item.price * item.count;\n  }\n  return total;\n}\n\n"
            b"function clean(s) {\n  return s.replace(/\\s*/g, '').trim();\n}\n",
        ),
        # an odd number of triple quotes because the snippet ends inside a docstring
        ("python", b'def f(a):\n    return a + 1\n\n\ndef g(b):\n    """Half of b.\n\n    More'),
        # ... or because one is inside a string, a comment, or a docstring of other quotes
        ("python", b'def at(src, pos):\n    return src.startswith(\'"""\', pos)\n'),
        ("python", b'def f(s):\n    x = s + 1  # a """ here\n    return x\n'),
        ("python", b'def wrap(s):\n    """Wrap s in \'\'\' quotes."""\n    return s\n'),
        # ... or because a docstring opens at the end, after a comment or a shebang line
        ("python", b'def f(x):\n    # helper\n    """Doc of f.\n\n    More'),
        ("python", b'#!/usr/bin/env python\n"""Module doc.\n\nMore words here'),
        # ... or because a prefixed string opens at the end
        ("python", b'def load(path):\n    return open(path).read()\n\n\nPATTERN = rb"""\\d+'),
    ],
)
def test_a_snippet_that_only_looks_cut_inside_a_comment_is_left_as_it_is(language, snippet):
    assert texts(snippet, tokenize_snippet(snippet, language)) == texts(
        snippet, tokenize(snippet, language)
    )
