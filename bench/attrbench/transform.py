"""Query transformations of a function cut from an indexed file.

- type1: layout only (indentation, blank lines, brace style, comments added/dropped);
  Python stays valid: indentation widths are remapped monotonically, and rows inside
  multi-line strings or macro continuations are never touched.
- type2: bound identifiers (parameters, locals) and some literals renamed consistently.
- type3: a share of the statement lines deleted, changed, or given a new statement after.
(Embedding a function between new ones is in attrbench.embed.)
Each returns the query text, or None when the cut does not lend itself to it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from attrbench import syntax

WORDS = [
    "value",
    "item",
    "result",
    "count",
    "buffer",
    "node",
    "index",
    "data",
    "entry",
    "key",
    "total",
    "offset",
    "size",
    "current",
    "target",
    "source",
    "output",
    "input",
    "record",
    "element",
    "field",
    "label",
    "score",
    "limit",
    "handle",
    "payload",
    "state",
    "config",
    "option",
    "token",
    "chunk",
    "block",
    "frame",
    "cursor",
    "child",
    "parent",
    "width",
    "height",
    "length",
    "position",
    "marker",
    "flag",
    "status",
    "message",
    "name",
    "prefix",
    "suffix",
]
COMMENTS = (
    "compute the result",
    "TODO: handle the error case",
    "helper for the caller",
    "make sure the input is valid",
    "keep the original order",
    "fast path",
    "update the running state",
    "see the docs for details",
    "NOTE: this mirrors the reference implementation",
    "clean up before returning",
)
LINE_COMMENT = {"python": "#"}
SNAKE = frozenset({"python", "rust", "c", "cpp"})
BRACE_LANGS = frozenset({"c", "cpp", "java", "javascript", "typescript", "tsx", "rust"})
_WORD = re.compile(r"[A-Za-z_]\w*")
_SIMPLE_STRING = re.compile(r"""^(["'])([^"'\\\n]{1,40})\1$""")
_DECIMAL = re.compile(r"^[0-9]{1,6}$")
_SWAPS = {"+": "-", "-": "+", "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}


@dataclass
class Cut:
    """A function of an indexed file: rows r0..r1 (0-based, inclusive) of data."""

    data: bytes
    language: str
    tree: Any
    r0: int
    r1: int
    unit_type: str = ""
    rows: list[bytes] = field(default_factory=list)
    protected: set[int] = field(default_factory=set)
    token_end: dict[int, int] = field(default_factory=dict)  # row -> end of its last token
    row_start: list[int] = field(default_factory=list)

    @classmethod
    def make(cls, data: bytes, language: str, tree: Any, stream: Any, r0: int, r1: int) -> Cut:
        rows = data.split(b"\n")
        starts = [0]
        for line in rows[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        token_end: dict[int, int] = {}
        for end, line in zip(stream.end.tolist(), stream.end_line.tolist(), strict=True):
            token_end[line - 1] = max(token_end.get(line - 1, 0), end)
        return cls(data, language, tree, r0, r1, "", rows, set(), token_end, starts)

    @property
    def b0(self) -> int:
        return self.row_start[self.r0]

    @property
    def b1(self) -> int:
        return self.row_start[self.r1] + len(self.rows[self.r1])

    def text(self) -> str:
        return self.data[self.b0 : self.b1].decode("utf-8", "replace") + "\n"

    def has_tokens(self, row: int) -> bool:
        return row in self.token_end

    def trailing_ok(self, row: int) -> bool:
        """A comment may be appended to this row (its last token ends the line)."""
        if row in self.protected or row not in self.token_end:
            return False
        rest = self.data[self.token_end[row] : self.row_start[row] + len(self.rows[row])]
        return not rest.strip()


def comment_marker(language: str) -> str:
    return LINE_COMMENT.get(language, "//")


def new_name(rng: random.Random, language: str, taken: set[str]) -> str:
    for _ in range(100):
        a, b = rng.sample(WORDS, 2)
        name = f"{a}_{b}" if language in SNAKE else a + b.capitalize()
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("no fresh name")  # pragma: no cover


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


# --- type 1 ----------------------------------------------------------------------------
def type1(cut: Cut, rng: random.Random) -> str | None:
    """Layout and comments changed; the token stream is unchanged."""
    rows = list(range(cut.r0, cut.r1 + 1))
    entries: list[tuple[int | None, str]] = [
        (r, cut.rows[r].decode("utf-8", "replace")) for r in rows
    ]
    steps = [_reindent, _drop_comments, _add_comments, _trailing_comments, _blank_lines]
    if cut.language in BRACE_LANGS:
        steps.append(_brace_style)
    rng.shuffle(steps)
    changed = False
    for step in steps:
        if rng.random() < 0.6:
            out = step(cut, entries, rng)
            changed |= out != entries
            entries = out
    if not changed:
        entries = _add_comments(cut, entries, rng)
    text = "\n".join(t for _, t in entries) + "\n"
    return None if text == cut.text() else text


Entries = list[tuple[int | None, str]]


def _reindent(cut: Cut, entries: Entries, rng: random.Random) -> Entries:
    free = [(r, t) for r, t in entries if t.strip() and (r is None or r not in cut.protected)]
    if cut.language == "python" and any("\t" in _indent(t) for _, t in free):
        return entries
    widths = sorted({len(_indent(t).expandtabs(4)) for _, t in free})
    rank = {w: i for i, w in enumerate(widths)}
    unit = rng.choice(["  ", "    ", "\t", "   "] if cut.language != "python" else ["  ", "   "])
    out = []
    for r, t in entries:
        if t.strip() and (r is None or r not in cut.protected):
            t = unit * rank[len(_indent(t).expandtabs(4))] + t.lstrip()
        out.append((r, t))
    return out


def _is_comment_row(cut: Cut, r: int | None, t: str) -> bool:
    if r is None or r in cut.protected or cut.has_tokens(r):
        return False
    s = t.strip()
    return s.startswith(comment_marker(cut.language)) and "*/" not in s and "/*" not in s


def _drop_comments(cut: Cut, entries: Entries, rng: random.Random) -> Entries:
    return [(r, t) for r, t in entries if not _is_comment_row(cut, r, t)]


def _insertable(cut: Cut, entries: Entries, i: int) -> bool:
    """A new line may go before entries[i]."""
    r = entries[i][0]
    if r is not None and r in cut.protected:
        return False
    prev = entries[i - 1][0] if i > 0 else None
    return not (prev is not None and cut.rows[prev].rstrip().endswith(b"\\"))


def _add_comments(cut: Cut, entries: Entries, rng: random.Random) -> Entries:
    marker = comment_marker(cut.language)
    spots = [i for i in range(len(entries)) if _insertable(cut, entries, i)]
    if not spots:
        return entries
    out = list(entries)
    for i in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 3))), reverse=True):
        indent = _indent(out[i][1]) if out[i][1].strip() else ""
        out.insert(i, (None, f"{indent}{marker} {rng.choice(COMMENTS)}"))
    return out


def _trailing_comments(cut: Cut, entries: Entries, rng: random.Random) -> Entries:
    marker = comment_marker(cut.language)
    ok = [i for i, (r, _) in enumerate(entries) if r is not None and cut.trailing_ok(r)]
    out = list(entries)
    for i in rng.sample(ok, min(len(ok), rng.randint(1, 2))):
        r, t = out[i]
        out[i] = (r, f"{t.rstrip()}  {marker} {rng.choice(COMMENTS)}")
    return out


def _blank_lines(cut: Cut, entries: Entries, rng: random.Random) -> Entries:
    blanks = [i for i, (r, t) in enumerate(entries) if not t.strip() and r not in cut.protected]
    if blanks and rng.random() < 0.5:
        drop = set(blanks)
        return [e for i, e in enumerate(entries) if i not in drop]
    spots = [i for i in range(1, len(entries)) if _insertable(cut, entries, i)]
    out = list(entries)
    for i in sorted(rng.sample(spots, min(len(spots), 2)), reverse=True):
        out.insert(i, (None, ""))
    return out


def _brace_style(cut: Cut, entries: Entries, rng: random.Random) -> Entries:
    out: Entries = []
    for r, t in entries:
        s = t.rstrip()
        movable = (
            r is not None
            and r not in cut.protected
            and s.endswith("{")
            and len(s.strip()) > 1
            and not s.strip().startswith("return")
            and r in cut.token_end
            and cut.data[cut.token_end[r] - 1 : cut.token_end[r]] == b"{"
            and cut.trailing_ok(r)
        )
        if movable:
            out.append((r, s[:-1].rstrip()))
            out.append((None, _indent(t) + "{"))
        else:
            out.append((r, t))
    return out


# --- type 2 ----------------------------------------------------------------------------
def type2(cut: Cut, rng: random.Random) -> tuple[str, int] | None:
    """Bound identifiers renamed (all of them, like a model would) and about half of the
    distinct simple literals changed. Returns the text and the number of names renamed."""
    occ, bound = syntax.identifiers(cut.tree, cut.data, cut.b0, cut.b1)
    taken = set(_WORD.findall(cut.data.decode("utf-8", "replace")))
    names = sorted(
        n for n in bound if n not in syntax.COMMON_NAMES and not n.startswith("__") and n
    )
    mapping = {n: new_name(rng, cut.language, taken) for n in names}
    edits = [(o.start, o.end, mapping[o.name]) for o in occ if o.reference and o.name in mapping]
    edits += _literal_edits(cut, rng)
    if not mapping:
        return None
    return _apply(cut, edits), len(mapping)


def _literal_edits(cut: Cut, rng: random.Random) -> list[tuple[int, int, str]]:
    new: dict[bytes, str | None] = {}
    edits = []
    single_ok = cut.language in ("python", "javascript", "typescript", "tsx")
    for kind, s, e in syntax.literals(cut.tree, cut.b0, cut.b1):
        raw = cut.data[s:e]
        if raw not in new:
            new[raw] = None
            text = raw.decode("utf-8", "replace")
            if rng.random() < 0.5:
                m = _SIMPLE_STRING.match(text) if kind == "string" else None
                if m and (m.group(1) == '"' or single_ok):
                    new[raw] = f"{m.group(1)}{rng.choice(WORDS)} {rng.choice(WORDS)}{m.group(1)}"
                elif kind == "number" and _DECIMAL.match(text):
                    new[raw] = str(int(text) + rng.randint(1, 9))
        if new[raw] is not None:
            edits.append((s, e, new[raw]))
    return edits  # type: ignore[return-value]


def _apply(cut: Cut, edits: list[tuple[int, int, str]]) -> str:
    data = cut.data[cut.b0 : cut.b1]
    for s, e, text in sorted(edits, reverse=True):
        data = data[: s - cut.b0] + text.encode() + data[e - cut.b0 :]
    return data.decode("utf-8", "replace") + "\n"


# --- type 3 ----------------------------------------------------------------------------
INSERTS = {
    "python": ["{v} = {n}", "log.debug('{w} %s', {v})", "if {v} is None:\n{i}    return None"],
    "javascript": ["const {v} = {n};", "console.debug('{w}', {v});", "if (!{v}) return null;"],
    "typescript": ["const {v} = {n};", "console.debug('{w}', {v});", "if (!{v}) return null;"],
    "c": ["int {v} = {n};", 'fprintf(stderr, "{w} %d\\n", {n});', "if (!{v}) return -1;"],
    "cpp": ["int {v} = {n};", 'std::cerr << "{w}" << {n};', "if (!{v}) return -1;"],
    "java": ["int {v} = {n};", 'System.err.println("{w}" + {n});', "if ({v} == null) return;"],
    "go": ["{v} := {n}", 'fmt.Println("{w}", {n})', "if {v} == nil {{ return }}"],
    "rust": ["let {v} = {n};", 'eprintln!("{w} {{}}", {n});', "if {v}.is_empty() {{ return; }}"],
}


def type3(cut: Cut, rng: random.Random, ratio: float) -> tuple[str, float] | None:
    """ratio of the statement lines edited (deleted, changed or followed by a new one).
    Returns the text and the share actually edited."""
    stmts = syntax.statement_rows(cut.tree, cut.data, cut.b0, cut.b1)
    rows = sorted(r for r in stmts if cut.r0 < r < cut.r1 and r not in cut.protected)
    if len(rows) < 3:
        return None
    n_edit = max(1, round(ratio * len(rows)))
    chosen = set(rng.sample(rows, n_edit))
    taken = set(_WORD.findall(cut.data.decode("utf-8", "replace")))
    templates = INSERTS.get(cut.language, INSERTS["c"])
    out: list[str] = []
    for r in range(cut.r0, cut.r1 + 1):
        line = cut.rows[r].decode("utf-8", "replace")
        if r not in chosen:
            out.append(line)
            continue
        op = rng.choice(["delete", "change", "insert"])
        node = stmts[r]
        if op == "delete" and node.parent is not None and node.parent.named_child_count < 2:
            op = "change"
        if op == "delete":
            continue
        if op == "change":
            line = _change(cut, r, line, rng, taken)
        out.append(line)
        if op == "insert":
            tpl = rng.choice(templates)
            v = new_name(rng, cut.language, taken)
            ind = _indent(line)
            new = tpl.format(v=v, n=rng.randint(2, 99), w=rng.choice(WORDS), i=ind)
            out.append(ind + new)
    return "\n".join(out) + "\n", n_edit / len(rows)


def _change(cut: Cut, r: int, line: str, rng: random.Random, taken: set[str]) -> str:
    """One statement changed: an operator swapped or a name or number replaced."""
    ops = [m for m in re.finditer(r"(?<![<>=!+\-])(<=|>=|==|!=|<|>|\+|-)(?![<>=+\-])", line)]
    words = [
        m
        for m in _WORD.finditer(line)
        if m.group(0) not in syntax.COMMON_NAMES and m.start() >= len(_indent(line))
    ]
    if ops and rng.random() < 0.4:
        m = rng.choice(ops)
        return line[: m.start()] + _SWAPS[m.group(0)] + line[m.end() :]
    if words:
        m = rng.choice(words[1:] or words)
        return line[: m.start()] + new_name(rng, cut.language, taken) + line[m.end() :]
    return line + f" {comment_marker(cut.language)} changed"
