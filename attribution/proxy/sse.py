"""Server-sent events read incrementally from bytes that arrive in any cut.

Each `Event` keeps its raw bytes, so an event the proxy does not change goes out exactly as
the upstream wrote it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_LINE_END = re.compile(r"\r\n|\r|\n")
_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


@dataclass(frozen=True)
class Event:
    """One event: its `event:` name (None for a plain message), its data, its raw bytes."""

    name: str | None
    data: str | None  # None: only comments or fields without data
    raw: bytes


class SSEParser:
    """Feed bytes, get the events completed so far; `close()` gives an unfinished one."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[Event]:
        self._buffer += data
        events: list[Event] = []
        while True:
            # a lone \r at the end may be the first half of \r\n: wait for the next byte
            m = _EVENT_END.search(self._buffer)
            if m is None or (m.end() == len(self._buffer) and self._buffer.endswith(b"\r")):
                return events
            raw, self._buffer = self._buffer[: m.end()], self._buffer[m.end() :]
            events.append(parse_event(raw))

    def close(self) -> Event | None:
        """The event cut off by the end of the stream, if any."""
        raw, self._buffer = self._buffer, b""
        return parse_event(raw) if raw.strip() else None


def parse_event(raw: bytes) -> Event:
    name: str | None = None
    data: list[str] = []
    for line in _LINE_END.split(raw.decode("utf-8", "replace")):
        if not line or line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
    return Event(name, "\n".join(data) if data else None, raw)


def encode(payload: dict[str, Any] | str, name: str | None = None) -> bytes:
    """One event carrying a JSON payload (or a plain string such as `[DONE]`)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {text}\n\n".encode()
