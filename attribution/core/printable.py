"""Text from indexed metadata made safe to print on a terminal.

Repository names, paths, authors and licenses come from the files being indexed; a name
holding `ESC ] 0 ; ...` would retitle the user's terminal, `ESC [ 2 J` clear it, a
newline forge a line of output, a right-to-left override reorder what is shown.
`printable` escapes every such character (C0 and C1 controls, DEL, and the bidirectional
overrides and isolates) as a visible `\\xNN` / `\\uNNNN`; other text is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control and bidirectional-override characters shown as escapes."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def printable_all(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples) with every string (keys too)
    made printable; other values are kept."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_all(k): printable_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(printable_all(v) for v in value)
    return value
