"""Source text to token streams: tree-sitter leaves (or the fallback lexer), comments dropped.

A token stream carries two views of the same tokens:
- the exact view: a 32-bit hash of each token's text;
- the abstracted view: identifiers, strings and numbers replaced by their class,
  so that consistently renamed copies have the same abstracted stream.
Every token knows its byte range and its line (1-based).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, cast

import numpy as np

from attribution.core import languages as langs
from attribution.core.arrays import distinct

# Hashes of the classes in the abstracted view (fixed, so indexes stay comparable).
_CLASS_HASH = np.array(
    [0]
    + [
        int.from_bytes(hashlib.blake2b(f"\0class:{c}".encode(), digest_size=4).digest(), "little")
        for c in ("identifier", "string", "number")
    ],
    dtype=np.uint32,
)


@dataclass(frozen=True, eq=False)
class TokenStream:
    """Tokens of one text: parallel arrays, one entry per token."""

    text_hash: np.ndarray  # uint32, exact view
    kind: np.ndarray  # uint8, class of the token (languages.OTHER/IDENTIFIER/STRING/NUMBER)
    start: np.ndarray  # uint32 byte offset of the token's first byte
    end: np.ndarray  # uint32 byte offset one past its last byte
    line: np.ndarray  # uint32, 1-based line of the first byte
    end_line: np.ndarray  # uint32, 1-based line of the last byte
    units: np.ndarray  # int32 (n, 2): token ranges [a, b) of functions and methods
    language: str

    def __len__(self) -> int:
        return int(self.text_hash.shape[0])

    @cached_property
    def abstract(self) -> np.ndarray:
        """The abstracted view: class hash for identifiers and literals, text hash otherwise."""
        return np.where(self.kind == 0, self.text_hash, _CLASS_HASH[self.kind])

    def identifiers(self) -> np.ndarray:
        """The distinct exact-view hashes of the stream's identifiers (sorted uint32)."""
        return distinct(self.text_hash[self.kind == langs.IDENTIFIER])

    def slice(self, a: int, b: int) -> TokenStream:
        """Tokens a..b-1 (units that fall inside are kept, shifted)."""
        u = self.units
        keep = u[(u[:, 0] >= a) & (u[:, 1] <= b)] - a if len(u) else u
        return TokenStream(
            self.text_hash[a:b],
            self.kind[a:b],
            self.start[a:b],
            self.end[a:b],
            self.line[a:b],
            self.end_line[a:b],
            keep.astype(np.int32).reshape(-1, 2),
            self.language,
        )


def abstract_view(text_hash: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The abstracted view of stored token arrays (same rule as TokenStream.abstract)."""
    return np.where(kind == 0, text_hash, _CLASS_HASH[kind])


class _Hasher:
    """Token text -> 32-bit hash, memoised (token vocabularies are small)."""

    def __init__(self) -> None:
        self._memo: dict[bytes, int] = {}

    def __call__(self, text: bytes) -> int:
        h = self._memo.get(text)
        if h is None:
            if len(self._memo) > 2_000_000:
                self._memo.clear()
            h = int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "little")
            self._memo[text] = h
        return h

    def spans(self, data: bytes, spans: list[int]) -> list[int]:
        """The hashes of data's texts at flat byte ranges [start0, end0, start1, ...]
        (one memo look-up a token when every text is known, the usual case)."""
        get = self._memo.get
        pairs = iter(spans)  # zip(pairs, pairs) reads them two at a time
        known = [get(data[s:e]) for s, e in zip(pairs, pairs, strict=True)]
        if None in known:
            pairs = iter(spans)
            return [self(data[s:e]) for s, e in zip(pairs, pairs, strict=True)]
        return cast("list[int]", known)


_hash_token = _Hasher()


def token_hash(text: bytes) -> int:
    """The exact-view hash of one token's text."""
    return _hash_token(text)


def tokenize(data: bytes | str, language: str) -> TokenStream:
    """Tokenize source text in a known language (tree-sitter, or the fallback lexer)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return _tokenize(data, language, None)


def _tokenize(data: bytes, language: str, root: Any) -> TokenStream:
    """tokenize, root the syntax tree of data when parsed already (None: not)."""
    if langs.has_grammar(language):
        spans, kinds, units = _tree_sitter_tokens(data, language, root)
    else:
        spans, kinds = _fallback_tokens(data, langs.LANGUAGES[language])
        units = []
    return _to_stream(data, spans, kinds, units, language)


def tokenize_snippet(data: bytes | str, language: str) -> TokenStream:
    """Tokenize a snippet: text cut from a file, which may begin inside a block comment
    (or a Python docstring). When it does, the comment's rest is blanked (newlines kept,
    so offsets and lines stay) and the code after it is tokenized as code, not as the
    tail of a string or as comment words."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    data, root = _skip_open_comment(data, language)
    return _tokenize(data, language, root)


_DOCSTRING_QUOTES = (b'"""', b"'''")


def _skip_open_comment(data: bytes, language: str) -> tuple[bytes, Any]:
    """The snippet with the comment it starts inside blanked, when the first comment end
    (`*/` before any `/*`) or the first triple quote that the parser takes for a string's
    start reads as a comment's or docstring's end, and blanking up to it parses with less
    damage than the snippet as it is. A `*/` in a regular expression or a string, and a
    triple quote in a comment, a string or after a `def` header, stay as they are. With
    the snippet, its syntax tree when this parsed it (None when it did not)."""
    if not langs.has_grammar(language):
        return data, None
    quotes = [q for q in _DOCSTRING_QUOTES if language == "python" and data.count(q) % 2]
    closers = [
        (close, len(closer))
        for opener, closer in langs.LANGUAGES[language].block_comments
        if 0 <= (close := data.find(closer.encode())) < _find_or_end(data, opener.encode())
    ]
    if not quotes and not closers:
        return data, None  # the common case: no parse here
    root = _parse(data, language)
    ends = [close + n for close, n in closers if _ends_a_comment(data, close)]
    for q in quotes:
        at = _first_string_start(root, data, q)
        if at is not None and not _opens_string(data, at):
            ends.append(at + len(q))
    damage = _damage(root)
    for end in sorted(ends):
        blanked = _blank(data, 0, end)
        tree = _parse(blanked, language)
        if _damage(tree) < damage:
            return blanked, tree
    return data, root


def _find_or_end(data: bytes, text: bytes) -> int:
    at = data.find(text)
    return len(data) if at < 0 else at


def _parse(data: bytes, language: str) -> Any:
    return _grammar(language).parser.parse(data).root_node


def _first_string_start(root: Any, data: bytes, quote: bytes) -> int | None:
    """Offset of the first `quote` that the parser reads as the start of a string with no
    prefix (not one inside a comment or another string); None when there is none."""
    at = data.find(quote)
    while at >= 0:
        node = root.descendant_for_byte_range(at, at + len(quote))
        if node is not None and node.type == "string_start":
            return at if node.start_byte == at and node.end_byte == at + len(quote) else None
        at = data.find(quote, at + len(quote))
    return None


def _opens_string(data: bytes, at: int) -> bool:
    """Whether a triple quote at `at` follows what a docstring or a string value follows:
    nothing (the snippet starts with it), a `def` or `class` header's colon, `=`, `(`,
    `,`, `[` or `return`, comment lines between them aside. A triple quote after prose
    closes a docstring."""
    lines = [line.strip() for line in data[:at].split(b"\n")]
    while lines and (not lines[-1] or lines[-1].startswith(b"#")):
        lines.pop()
    return not lines or lines[-1].endswith((b":", b"=", b"(", b",", b"[", b"return"))


def _ends_a_comment(data: bytes, at: int) -> bool:
    """Whether the `*/` at `at` looks like the end of a comment the snippet starts in: it
    begins its line, or every line before it is a comment line starting with `*`."""
    line_start = data.rfind(b"\n", 0, at) + 1
    if not data[line_start:at].strip():
        return True
    lines = (line.strip() for line in data[:at].split(b"\n"))
    return all(line.startswith(b"*") for line in lines if line)


def _blank(data: bytes, a: int, b: int) -> bytes:
    """data with bytes [a, b) turned to spaces, newlines kept (offsets and lines stay)."""
    return data[:a] + re.sub(rb"[^\n]", b" ", data[a:b]) + data[b:]


def _damage(root: Any) -> tuple[int, int]:
    """(syntax-error and missing nodes, bytes inside error nodes): (0, 0) for a clean parse."""
    count, size = 0, 0
    stack = [root] if root.has_error else []
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
            size += node.end_byte - node.start_byte
        else:
            stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return count, size


def _to_stream(
    data: bytes,
    spans: list[int],
    kinds: list[int],
    units: list[tuple[int, int]],
    language: str,
) -> TokenStream:
    """Token arrays from flat byte ranges [start0, end0, start1, end1, ...] and classes."""
    pairs = np.array(spans, dtype=np.int64).reshape(-1, 2)
    start = pairs[:, 0].astype(np.uint32)
    end = pairs[:, 1].astype(np.uint32)
    kind = np.array(kinds, dtype=np.uint8)
    hashes = np.array(_hash_token.spans(data, spans), dtype=np.uint32)
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    line = (np.searchsorted(newlines, start, side="right") + 1).astype(np.uint32)
    last = np.maximum(pairs[:, 1] - 1, pairs[:, 0])
    end_line = (np.searchsorted(newlines, last, side="right") + 1).astype(np.uint32)
    unit_arr = _token_units(start, units)
    return TokenStream(hashes, kind, start, end, line, end_line, unit_arr, language)


def _token_units(start: np.ndarray, units: list[tuple[int, int]]) -> np.ndarray:
    """Byte ranges of functions -> token ranges [a, b)."""
    if not units or len(start) == 0:
        return np.zeros((0, 2), dtype=np.int32)
    out = np.searchsorted(start, np.array(units, dtype=np.int64), side="left")
    return out[out[:, 1] > out[:, 0]].astype(np.int32)


_DROP = -1  # the class of comment kinds: dropped whole


@dataclass(frozen=True)
class _Grammar:
    """A language's parser and the kind-id tables its tree walk reads."""

    parser: Any
    classes: dict[int, int]  # atomic kinds (taken whole) -> token class; comments -> _DROP
    units: frozenset[int]  # kinds of functions and methods
    statements: frozenset[int]  # Python's expression statements (a docstring is one)


@cache
def _grammar(language: str) -> _Grammar:
    """The language's parser and kind tables, built once (the kinds are read by name)."""
    import tree_sitter

    lang = langs.grammar(language)
    classes: dict[int, int] = {}
    units: set[int] = set()
    statements: set[int] = set()
    for kid in range(lang.node_kind_count):
        name = lang.node_kind_for_id(kid)
        if name == "expression_statement" and language == "python":
            statements.add(kid)  # named or not: _is_docstring reads the type name
        if not name or not lang.node_kind_is_named(kid):
            continue
        if name in langs.COMMENT_TYPES:
            classes[kid] = _DROP
        elif name in langs.STRING_TYPES:
            classes[kid] = langs.STRING
        elif name in langs.NUMBER_TYPES:
            classes[kid] = langs.NUMBER
        elif name.endswith("identifier"):
            classes[kid] = langs.IDENTIFIER
        if name in langs.UNIT_TYPES:
            units.add(kid)
    return _Grammar(tree_sitter.Parser(lang), classes, frozenset(units), frozenset(statements))


def _tree_sitter_tokens(
    data: bytes, language: str, root: Any = None
) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Leaves of the syntax tree (literals and identifiers whole), without comments:
    their byte ranges flat [start0, end0, start1, ...], their classes, and the byte
    ranges of the units (functions, methods) in the order they open. root: the syntax
    tree of data, when parsed already."""
    g = _grammar(language)
    cursor = (root if root is not None else g.parser.parse(data).root_node).walk()
    down, right, up = cursor.goto_first_child, cursor.goto_next_sibling, cursor.goto_parent
    atomic, unit_kinds, statements = g.classes.get, g.units, g.statements
    spans: list[int] = []
    kinds: list[int] = []
    units: list[tuple[int, int]] = []
    other = langs.OTHER
    while True:
        node = cursor.node
        kid = node.kind_id
        kind = atomic(kid)
        if kind is None:
            if kid in statements and _is_docstring(node):
                pass  # a docstring: dropped whole
            elif down():  # an inner node: its first child is next
                if kid in unit_kinds:
                    units.append(node.byte_range)
                continue
            elif (span := node.byte_range)[1] > span[0]:  # a leaf with text
                spans += span
                kinds.append(other)
        elif kind != _DROP:
            spans += node.byte_range
            kinds.append(kind)
        while not right():
            if not up():
                return spans, kinds, units


def _is_docstring(node: Any) -> bool:
    """A Python expression statement that is only a string literal (a docstring)."""
    if node.type != "expression_statement" or node.named_child_count != 1:
        return False
    child = node.named_children[0]
    return bool(child.type in ("string", "concatenated_string"))


# Fallback lexer: words, numbers, quoted strings and single punctuation characters;
# line comments of the language and C block comments are dropped.
_FALLBACK = re.compile(
    rb"""(?P<ws>\s+)
    |(?P<block>/\*.*?(?:\*/|\Z))
    |(?P<str>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)
    |(?P<num>\d[\w.]*)
    |(?P<word>[A-Za-z_$][\w$]*)
    |(?P<punct>[^\s\w])""",
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = frozenset(
    b"""if then else elif fi for while do done case esac in function return local export
    def end class module begin rescue ensure yield self nil true false null none and or not
    sub my our use package foreach unless until last next die print echo let var const
    public private protected static void int long char float double bool struct enum new
    try catch finally throw import from as with break continue switch default goto proc set
    func fn match where mut impl trait type interface extends implements this super""".split()
)


@cache
def _line_comment_regex(prefixes: tuple[str, ...]) -> re.Pattern[bytes] | None:
    if not prefixes:
        return None
    alts = b"|".join(re.escape(p.encode()) for p in prefixes)
    # a comment starts at the beginning of a line or after white space
    return re.compile(rb"(?:^|(?<=\s))(?:" + alts + rb")[^\n]*", re.MULTILINE)


def _fallback_tokens(data: bytes, lang: langs.Language) -> tuple[list[int], list[int]]:
    """Tokens of a language without a grammar (see DESIGN.md, 'Fallback lexer'): byte
    ranges flat [start0, end0, start1, ...] and classes, as _tree_sitter_tokens."""
    comment_re = _line_comment_regex(lang.line_comments)
    if comment_re is not None:
        # blank out comments, keeping offsets and newlines
        data = comment_re.sub(lambda m: b" " * len(m.group(0)), data)
    spans: list[int] = []
    kinds: list[int] = []
    for m in _FALLBACK.finditer(data):
        group = m.lastgroup
        if group in ("ws", "block"):
            continue
        spans += m.span()
        if group == "str":
            kinds.append(langs.STRING)
        elif group == "num":
            kinds.append(langs.NUMBER)
        elif group == "word":
            kinds.append(langs.OTHER if m.group(0) in _KEYWORDS else langs.IDENTIFIER)
        else:
            kinds.append(langs.OTHER)
    return spans, kinds
