"""Code in tool-call arguments: the arguments of each call gathered (streamed or whole), then
every string value that is code (a fenced block in it, or code-like text of two lines or
more) becomes a block to attribute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from attribution.proxy.fences import FenceTracker

CODE_SYMBOLS = "(){}[];=<>:"
MIN_CHARS = 40


def looks_like_code(text: str) -> bool:
    """Two or more non-blank lines with about one code symbol a line or more."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or len(text) < MIN_CHARS:
        return False
    return sum(text.count(c) for c in CODE_SYMBOLS) >= len(lines)


def code_in(text: str) -> list[tuple[str | None, str]]:
    """(fence tag, code) of the blocks in a string: its fenced blocks, else itself if code."""
    tracker = FenceTracker()
    tracker.feed(text)
    tracker.finish()
    fenced = [(b.tag, b.code) for b in tracker.blocks if b.code.strip()]
    if fenced:
        return fenced
    return [(None, text)] if looks_like_code(text) else []


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(JSON path, string) of every string in a JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, f"{path}[{i}]")


class ToolCalls:
    """The tool calls of one choice: arguments by call index, added whole or in deltas."""

    def __init__(self) -> None:
        self.arguments: dict[int, list[str]] = {}

    def add(self, calls: Any) -> None:
        """Take a message's `tool_calls` list, or a streamed delta of it."""
        if not isinstance(calls, list):
            return
        for position, call in enumerate(calls):
            if not isinstance(call, dict):
                continue
            index = call.get("index", position)
            function = call.get("function")
            args = function.get("arguments") if isinstance(function, dict) else None
            if isinstance(index, int) and isinstance(args, str):
                self.arguments.setdefault(index, []).append(args)

    def blocks(self) -> Iterator[tuple[int, str, str | None, str]]:
        """(call index, argument path, fence tag, code) of the code in the arguments."""
        for index in sorted(self.arguments):
            text = "".join(self.arguments[index])
            try:
                found = list(strings(json.loads(text)))
            except ValueError:
                found = [("", text)]
            for path, value in found:
                for tag, code in code_in(value):
                    yield index, path, tag, code
