"""The proxy's pure parts: fenced blocks cut across pieces, SSE cut across reads, code in
tool-call arguments, citations over the matched lines."""

from __future__ import annotations

import json
import random

import pytest

from attribution.proxy import present, toolcalls
from attribution.proxy.fences import FenceTracker, opener
from attribution.proxy.sse import SSEParser, encode

TEXT = (
    "Intro with `inline` code and ``two`` ticks.\n\n"
    "```python title=x\ndef f(x):\n    return x + 1\n```\n"
    "Between.\n"
    "  ~~~~ {.js}\nconst a = '```';\n~~~\nstill inside\n~~~~~\n"
    "```\nno tag\n```"
)


def blocks_of(parts: list[str], hold: bool = False) -> tuple[list[tuple], str, str]:
    tracker = FenceTracker(hold=hold)
    out = []
    for part in parts:
        out += tracker.feed(part)
    out += tracker.finish()
    found = [
        (b.number, b.tag, b.code, b.closed, b.code_start, b.code_end, b.open_start, b.close_end)
        for b in tracker.blocks
    ]
    prose = "".join(p.text for p in out if p.kind == "prose")
    return found, prose, "".join(p.text for p in out)


def cuts(text: str, rng: random.Random) -> list[str]:
    points = sorted(rng.sample(range(1, len(text)), rng.randint(1, 30)))
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


def test_blocks_tags_and_offsets() -> None:
    found, prose, whole = blocks_of([TEXT])
    assert whole == TEXT
    assert [(n, tag, closed) for n, tag, _, closed, *_ in found] == [
        (0, "python", True),
        (1, "js", True),
        (2, None, True),
    ]
    assert found[0][2] == "def f(x):\n    return x + 1\n"
    assert found[1][2] == "const a = '```';\n~~~\nstill inside\n"  # a shorter fence is code
    for _, _, code, _, start, end, *_ in found:
        assert TEXT[start:end] == code
    assert "Between." in prose and "def f" not in prose


@pytest.mark.parametrize("hold", [False, True])
def test_any_cut_gives_the_same_blocks(hold: bool) -> None:
    rng = random.Random(7)
    expected = blocks_of([TEXT])[0]
    for _ in range(200):
        parts = cuts(TEXT, rng)
        found, _, whole = blocks_of(parts, hold)
        assert found == expected
        assert whole == TEXT  # nothing lost, nothing doubled


def test_hold_keeps_a_possible_fence_until_its_line_ends() -> None:
    tracker = FenceTracker(hold=True)
    assert tracker.feed("Prose\n``") == [tracker_piece("Prose\n")]
    pieces = tracker.feed("`py\nx = 1\n")
    assert [p.kind for p in pieces] == ["code"] and pieces[0].text == "```py\nx = 1\n"
    free = FenceTracker(hold=True)
    assert [p.text for p in free.feed("``not a fence")] == ["``not a fence"]


def tracker_piece(text: str) -> object:
    from attribution.proxy.fences import Piece

    return Piece(text, "prose")


def test_unterminated_block_ends_with_the_text() -> None:
    found, _, _ = blocks_of(["Look:\n```c\nint main(void) {\n  return 0;"])
    (_, tag, code, closed, _, end, *_) = found[0]
    assert (tag, closed, code) == ("c", False, "int main(void) {\n  return 0;")
    assert end == len("Look:\n```c\nint main(void) {\n  return 0;")


def test_opener_rules() -> None:
    assert opener("```") == ("```", None)
    assert opener("   ~~~ rust ") == ("~~~", "rust")
    assert opener("```py`") is None  # a backtick fence's info has no backtick
    assert opener("``") is None


def test_sse_events_survive_any_cut() -> None:
    payloads = [{"n": i, "text": "a\nb" * i} for i in range(5)]
    stream = b": comment\n\n" + b"".join(encode(p) for p in payloads)
    stream += b"event: ping\r\ndata: x\r\n\r\n" + encode("[DONE]")
    rng = random.Random(3)
    for _ in range(100):
        parser, events = SSEParser(), []
        points = sorted(rng.sample(range(1, len(stream)), 8))
        for a, b in zip([0, *points], [*points, len(stream)], strict=True):
            events += parser.feed(stream[a:b])
        assert parser.close() is None
        data = [e.data for e in events]
        assert [json.loads(d) for d in data[1:6]] == payloads
        assert data[0] is None and data[-1] == "[DONE]"
        assert (events[6].name, events[6].data) == ("ping", "x")
        assert b"".join(e.raw for e in events) == stream


def test_code_in_tool_arguments() -> None:
    code = "def f(a, b):\n    return [x * b for x in a]\n"
    calls = toolcalls.ToolCalls()
    args = json.dumps({"path": "f.py", "content": code, "note": "a short note"})
    calls.add([{"index": 0, "function": {"name": "write", "arguments": args[:20]}}])
    calls.add([{"index": 0, "function": {"arguments": args[20:]}}])
    assert list(calls.blocks()) == [(0, "content", None, code)]
    assert toolcalls.code_in("See:\n```go\nfunc f() {}\n```\n") == [("go", "func f() {}\n")]
    assert not toolcalls.looks_like_code("Two lines\nof plain prose here, nothing else at all.")


def test_citations_cover_the_matched_lines() -> None:
    code = "a = 1\nb = 2\nc = 3\n"
    source = {"repo_name": "r", "path": "p.py", "license": "MIT", "url": "https://x"}
    match = {"source": source, "query_lines": [2, 3], "source_lines": [10, 11]}
    item = {"content_range": [100, 100 + len(code)], "matches": [match]}
    (cite,) = present.citations(item, code, lambda m: m["source"]["url"])
    c = cite["url_citation"]
    assert (c["start_index"], c["end_index"]) == (106, 118)
    assert c["title"] == "r p.py lines 10-11 (MIT)" and cite["type"] == "url_citation"
