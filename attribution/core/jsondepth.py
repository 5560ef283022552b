"""JSON from untrusted input, parsed only when its nesting is shallow.

Python's json parser recurses once per level of nesting, so `[[[[...]]]]` a few
thousand deep ends in RecursionError, and a value that parses just under the limit can
end in one later (printing it, validating it). `loads` measures the nesting first, in C
speed (escape sequences removed by one linear regular expression, then cumulative sums
of quotes and brackets with numpy),
and refuses anything deeper than `max_depth` with a `JsonTooDeep` (a ValueError, so
callers that already turn invalid JSON into one line do the same here).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

MAX_DEPTH = 64  # no input of this project nests deeper than a few levels
_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # two bytes at a time: linear, no backtracking
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


class JsonTooDeep(ValueError):
    """JSON text nested deeper than allowed."""


def nesting_depth(text: bytes | str) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets in strings aside)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if data.count(b"[") + data.count(b"{") == 0:
        return 0
    chars = np.frombuffer(_ESCAPE.sub(b"", data), dtype=np.uint8)
    outside = (np.cumsum(chars == ord('"'), dtype=np.int32) & 1) == 0
    steps = _OPEN[chars].astype(np.int32) * outside
    if not steps.any():
        return 0
    return int(np.cumsum(steps, dtype=np.int32).max())


def check_depth(text: bytes | str, max_depth: int = MAX_DEPTH) -> None:
    """Raise JsonTooDeep when `text` nests deeper than `max_depth`."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return  # cannot be deeper than its number of brackets
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JsonTooDeep(f"nested {depth} levels deep (at most {max_depth})")


def loads(text: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads, after refusing text nested deeper than `max_depth`."""
    check_depth(text, max_depth)
    return json.loads(text)
