"""JSON Lines files of model outputs: one `{"id", "code", "language"?}` object per line.

A malformed line becomes a Problem with its line number; the other lines are scanned.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import IO, Any, cast

from attribution.scan.records import Problem, ScanItem

SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")


def is_jsonl(path: str) -> bool:
    return path.lower().endswith(SUFFIXES)


def _open(path: str) -> IO[bytes]:
    if path.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def read_outputs(path: str) -> Iterator[ScanItem | Problem]:
    """Each record of a JSON Lines file as a ScanItem, or a Problem naming its line."""
    try:
        stream = _open(path)
    except OSError as err:
        yield Problem(path, "unreadable", f"cannot open: {err.strerror or err}")
        return
    with stream:
        number = 0
        try:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    yield _record(path, number, raw)
        except (OSError, EOFError) as err:
            yield Problem(path, "unreadable", f"read failed after line {number}: {err}", number)


def _record(path: str, number: int, raw: bytes) -> ScanItem | Problem:
    try:
        obj: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        return Problem(path, "malformed", f"line {number}: not JSON ({_short(err)})", number)
    if not isinstance(obj, dict):
        return Problem(path, "malformed", f"line {number}: not a JSON object", number)
    code, language, ident = obj.get("code"), obj.get("language"), obj.get("id", number)
    if not isinstance(code, str):
        return Problem(path, "malformed", f'line {number}: "code" must be a string', number)
    if language is not None and not isinstance(language, str):
        return Problem(path, "malformed", f'line {number}: "language" must be a string', number)
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return Problem(
            path, "malformed", f'line {number}: "id" must be a string or a number', number
        )
    return ScanItem(
        path=f"{path}#{ident}",
        rel=f"{path}#{ident}",
        data=code.encode("utf-8", "surrogatepass"),
        language=language or None,
        filename=None,
        kind="snippet",
        line=number,
        item_id=str(ident),
    )


def _short(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:120]
