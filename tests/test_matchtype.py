"""core/matchtype.py: each rule of the module docstring, through the search (the type of
the one match) and, for what a search cannot produce, on token streams directly."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from memindex import MemoryIndex

from attribution.core.matchtype import classify
from attribution.core.search import attribute
from attribution.core.tokenize import TokenStream, tokenize


class StoredIndex(MemoryIndex):
    """A memory index whose sources have no units, as a disk index stores none."""

    def tokens(self, blob: int) -> TokenStream:
        stream = super().tokens(blob)
        return replace(stream, units=np.zeros((0, 2), np.int32))


INDEXES = [MemoryIndex, StoredIndex]


def kind_of(query: str, source: str, name: str, index_type: type[MemoryIndex]) -> str:
    index = index_type({name: source})
    result: dict[str, Any] = attribute(query, index, language=None, filename=name)
    (m,) = result["matches"]
    return str(m["match_type"])


PY = """LIMIT = 10


class Reader:
    def __init__(self, path=None, limit: int = LIMIT):
        self.path = path
        self.limit = limit
        self.rows = []

    def read(self, lines):
        count = 0
        for line in lines:
            if not line.strip():
                continue
            self.rows.append(line.split(","))
            count += 1
            if count >= self.limit:
                break
        return count

    def total(self, column):
        count = 0
        for row in self.rows:
            count += int(row[column])
        return count


def summarize(records, limit):
    totals = {}
    for record in records:
        name = record.name
        totals[name] = totals.get(name, 0) + record.amount
        if len(totals) > limit:
            break
    ordered = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return [f"{name}: {amount}" for name, amount in ordered[:LIMIT]]


def report(records, out, unused):
    for line in summarize(records, LIMIT):
        out.write(line + "\\n")
    out.flush()
    return len(records)
"""


def function(source: str, name: str) -> str:
    """The text of a top-level def or class of the source, up to the next one."""
    start = source.index(name)
    end = source.find("\n\n\n", start)
    return source[start : None if end < 0 else end + 1]


READER = function(PY, "class Reader")
SUMMARIZE = function(PY, "def summarize")
REPORT = function(PY, "def report")


@pytest.mark.parametrize("index_type", INDEXES)
def test_a_copy_and_a_consistent_renaming(index_type: type[MemoryIndex]) -> None:
    renamed = SUMMARIZE.replace("records", "rows").replace("record", "row")
    assert kind_of(SUMMARIZE, PY, "lib.py", index_type) == "exact"
    assert kind_of(renamed.replace("totals", "acc"), PY, "lib.py", index_type) == "renamed"


@pytest.mark.parametrize("index_type", INDEXES)
def test_each_functions_own_name_renamed_its_own_way_is_renamed(
    index_type: type[MemoryIndex],
) -> None:
    """Rule 1: `count` of read() becomes `seen`, total()'s own `count` becomes `tally`,
    or is kept."""
    read = READER[READER.index("    def read") : READER.index("    def total")]
    total = READER[READER.index("    def total") :]
    kept = READER.replace(read, read.replace("count", "seen"))
    both = kept.replace(total, total.replace("count", "tally"))
    assert kind_of(kept, PY, "lib.py", index_type) == "renamed"
    assert kind_of(both, PY, "lib.py", index_type) == "renamed"


@pytest.mark.parametrize("index_type", INDEXES)
def test_a_name_changed_in_one_statement_of_its_function_is_near(
    index_type: type[MemoryIndex],
) -> None:
    """Rule 1 still holds within a function."""
    query = READER.replace("count += 1", "seen += 1")
    assert kind_of(query, PY, "lib.py", index_type) == "near"


@pytest.mark.parametrize("index_type", INDEXES)
def test_renamed_parameters_with_defaults_and_annotations_are_declarations(
    index_type: type[MemoryIndex],
) -> None:
    """Rule 2: `path=None` and `limit: int` declare variables; `self.path` is a member."""
    query = READER.replace("path=None, limit: int", "where=None, most: int").replace(
        "= path\n", "= where\n"
    )
    query = query.replace("= limit\n", "= most\n")
    assert kind_of(query, PY, "lib.py", index_type) == "renamed"


@pytest.mark.parametrize("index_type", INDEXES)
def test_a_changed_literal_alone_is_near(index_type: type[MemoryIndex]) -> None:
    """Rule 3: nothing renamed, a value edited."""
    query = SUMMARIZE.replace('f"{name}: {amount}"', 'f"{name} = {amount}"')
    assert kind_of(query, PY, "lib.py", index_type) == "near"
    renamed = query.replace("totals", "acc")
    assert kind_of(renamed, PY, "lib.py", index_type) == "renamed"


@pytest.mark.parametrize("index_type", INDEXES)
def test_one_use_pointed_at_another_name_is_near(index_type: type[MemoryIndex]) -> None:
    """Rule 4: a call, a member and a global, each changed in one place, are edits."""
    for old, new in [
        ("summarize(records", "summary(records"),  # a function called once
        ("out.flush()", "out.close()"),  # a member name
        ("records, LIMIT)", "records, MAXIMUM)"),  # a global found elsewhere in the file
    ]:
        assert old in REPORT
        assert kind_of(REPORT.replace(old, new), PY, "lib.py", index_type) == "near", new


@pytest.mark.parametrize("index_type", INDEXES)
def test_the_copys_own_names_renamed_once_are_renamed(index_type: type[MemoryIndex]) -> None:
    """Rule 4: an unused parameter, and the function's own name, are the copy's own."""
    assert kind_of(REPORT.replace("unused", "spare"), PY, "lib.py", index_type) == "renamed"
    own_name = REPORT.replace("def report(", "def write_report(")
    assert kind_of(own_name, PY, "lib.py", index_type) == "renamed"


@pytest.mark.parametrize("index_type", INDEXES)
def test_a_statement_added_after_a_copy_that_starts_before_its_function_is_near(
    index_type: type[MemoryIndex],
) -> None:
    """The end is judged up to the function holding it, though no function holds the
    whole copy (it starts with `export default`, outside the function)."""
    source = (
        "export default function strip(input) {\n"
        "  if (typeof input === 'string') {\n"
        "    return stripString(input);\n"
        "  }\n"
        "  if (!(ArrayBuffer.isView(input) && input.BYTES_PER_ELEMENT === 1)) {\n"
        "    throw new Error('Input must be a string or a Uint8Array');\n"
        "  }\n"
        "  return stripBinary(input);\n"
        "}\n"
    )
    added = source.replace(
        "  return stripBinary(input);\n", "  return stripBinary(input);\n  const done = 73;\n"
    )
    assert kind_of(source, source, "strip.js", index_type) == "exact"
    assert kind_of(added, source, "strip.js", index_type) == "near"


@dataclass(frozen=True)
class Span:
    qa: int
    qb: int
    sa: int
    sb: int


def with_empty_token(stream: TokenStream, at: int) -> TokenStream:
    """The stream with a token of no bytes inserted before position at (as a parser's
    error recovery inserts one for a missing `;`)."""

    def put(arr: np.ndarray, value: Any) -> np.ndarray:
        return np.insert(arr, at, value)

    offset = stream.start[at]
    return TokenStream(
        put(stream.text_hash, 0),
        put(stream.kind, 0),
        put(stream.start, offset),
        put(stream.end, offset),
        put(stream.line, stream.line[at]),
        put(stream.end_line, stream.line[at]),
        np.where(stream.units > at, stream.units + 1, stream.units).astype(np.int32),
        stream.language,
    )


def test_a_token_of_no_bytes_is_not_code() -> None:
    s = tokenize(PY, "python")
    q = with_empty_token(tokenize(SUMMARIZE, "python"), 20)
    first = int(np.searchsorted(s.start, PY.index("def summarize")))
    n = len(q) - 1
    spans = [Span(0, 20, first, first + 20), Span(21, n + 1, first + 20, first + n)]
    assert classify(q, s, spans) == "exact"
    moved = [Span(0, 20, first, first + 20), Span(21, n + 1, first + 21, first + n + 1)]
    assert classify(q, s, moved) == "near"  # a real token is missing on one side
